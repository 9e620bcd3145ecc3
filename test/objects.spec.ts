import * as assert from "assert";
import { DiscoveryMode } from "../components";
import { TYPES, kubernetesObjects, ofType } from "./harness";
import { containerOf, deploy, statefulSetOf } from "./deploy";

const MODES: DiscoveryMode[] = ["dns", "k8s", "static"];

describe("objects the cluster consists of", () => {
    for (const discovery of MODES) {
        it(`creates the expected objects for discovery ${discovery}`, async () => {
            const d = await deploy({ discovery });
            const kinds = kubernetesObjects(d.resources).map((r) => r.type).sort();
            const expected = [
                TYPES.serviceAccount,
                // The kept credentials, the kept generated MQTT user and the secret settings the pods read.
                TYPES.secret,
                TYPES.secret,
                TYPES.secret,
                TYPES.configMap,
                // Headless, client and dashboard.
                TYPES.service,
                TYPES.service,
                TYPES.service,
                TYPES.statefulSet,
                TYPES.pdb,
                TYPES.networkPolicy,
                TYPES.pvcPatch,
                TYPES.pvcPatch,
                TYPES.pvcPatch,
                ...(discovery === "k8s" ? [TYPES.role, TYPES.roleBinding] : []),
            ].sort();
            assert.deepStrictEqual(kinds, expected);
        });
    }

    it("puts every object in the requested namespace with the cluster's labels", async () => {
        const d = await deploy({ namespace: "messaging", discovery: "k8s" });
        for (const object of kubernetesObjects(d.resources)) {
            assert.strictEqual(object.state.metadata.namespace, "messaging", `${object.type} ${object.name}`);
            if (object.type !== TYPES.pvcPatch) {
                assert.strictEqual(object.state.metadata.labels["app.kubernetes.io/instance"], "emqx");
            }
        }
    });

    it("creates a Role that can read exactly the headless Service's endpoints, bound to the pods' ServiceAccount, for k8s discovery", async () => {
        const d = await deploy({ discovery: "k8s" });
        const role = d.spec(TYPES.role);
        assert.strictEqual(role.apiVersion, "rbac.authorization.k8s.io/v1");
        assert.deepStrictEqual(role.rules, [
            { apiGroups: [""], resources: ["endpoints"], resourceNames: ["emqx-headless"], verbs: ["get", "list", "watch"] },
        ]);
        const binding = d.spec(TYPES.roleBinding);
        assert.strictEqual(binding.apiVersion, "rbac.authorization.k8s.io/v1");
        assert.deepStrictEqual(binding.roleRef, { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: role.metadata.name });
        const serviceAccount = d.spec(TYPES.serviceAccount);
        assert.deepStrictEqual(binding.subjects, [{ kind: "ServiceAccount", name: serviceAccount.metadata.name, namespace: "default" }]);
        const pod = statefulSetOf(d).spec.template.spec;
        assert.strictEqual(pod.serviceAccountName, serviceAccount.metadata.name);
        assert.strictEqual(pod.automountServiceAccountToken, true);
    });

    for (const discovery of ["dns", "static"] as DiscoveryMode[]) {
        it(`creates no RBAC and mounts no API token for discovery ${discovery}`, async () => {
            const d = await deploy({ discovery });
            assert.strictEqual(ofType(d.resources, TYPES.role).length, 0);
            assert.strictEqual(ofType(d.resources, TYPES.roleBinding).length, 0);
            assert.strictEqual(statefulSetOf(d).spec.template.spec.automountServiceAccountToken, false);
        });
    }

    it("governs the StatefulSet with a headless Service that publishes not-ready pods and the cluster ports", async () => {
        const d = await deploy({});
        const headless = ofType(d.resources, TYPES.service).find((s) => s.state.spec.clusterIP === "None");
        assert.ok(headless, "no headless Service");
        assert.strictEqual(headless.state.spec.publishNotReadyAddresses, true);
        const ports = headless.state.spec.ports.map((p: any) => `${p.name}:${p.port}`);
        for (const port of ["ekka:4370", "genrpc:5369", "mqtt:1883", "dashboard:18083"]) {
            assert.ok(ports.includes(port), `headless Service lacks ${port}: ${ports}`);
        }
        const sts = statefulSetOf(d);
        assert.strictEqual(sts.spec.serviceName, headless.state.metadata.name);
        assert.deepStrictEqual(headless.state.spec.selector, sts.spec.selector.matchLabels);
    });

    it("runs the StatefulSet in parallel with rolling updates, as uid/gid 1000, spread across nodes", async () => {
        const sts = statefulSetOf(await deploy({ replicas: 5 }));
        assert.strictEqual(sts.spec.replicas, 5);
        assert.strictEqual(sts.spec.podManagementPolicy, "Parallel");
        assert.strictEqual(sts.spec.updateStrategy.type, "RollingUpdate");
        const pod = sts.spec.template.spec;
        assert.deepStrictEqual(
            [pod.securityContext.runAsUser, pod.securityContext.runAsGroup, pod.securityContext.fsGroup, pod.securityContext.runAsNonRoot],
            [1000, 1000, 1000, true],
        );
        const anti = pod.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution;
        assert.strictEqual(anti[0].podAffinityTerm.topologyKey, "kubernetes.io/hostname");
        assert.deepStrictEqual(anti[0].podAffinityTerm.labelSelector.matchLabels, sts.spec.selector.matchLabels);
        for (const [key, value] of Object.entries(sts.spec.selector.matchLabels)) {
            assert.strictEqual(sts.spec.template.metadata.labels[key], value, `pod template lacks selector label ${key}`);
        }
    });

    it("keeps /opt/emqx/data on a claim per pod of the requested StorageClass and size", async () => {
        const d = await deploy({ storageClass: "fast-ssd", storageSize: "20Gi" });
        const sts = statefulSetOf(d);
        const [template] = sts.spec.volumeClaimTemplates;
        assert.strictEqual(template.spec.storageClassName, "fast-ssd");
        assert.deepStrictEqual(template.spec.resources.requests, { storage: "20Gi" });
        assert.deepStrictEqual(template.spec.accessModes, ["ReadWriteOnce"]);
        const mount = containerOf(d).volumeMounts.find((m: any) => m.mountPath === "/opt/emqx/data");
        assert.strictEqual(mount.name, template.metadata.name);
        assert.deepStrictEqual(sts.spec.persistentVolumeClaimRetentionPolicy, { whenDeleted: "Retain", whenScaled: "Retain" });
    });

    it("leaves the StorageClass to the cluster's default when none is given", async () => {
        const [template] = statefulSetOf(await deploy({})).spec.volumeClaimTemplates;
        assert.ok(!("storageClassName" in template.spec));
    });

    it("uses an emptyDir and no claims with persistence off", async () => {
        const d = await deploy({ persistence: false });
        const sts = statefulSetOf(d);
        assert.deepStrictEqual(sts.spec.volumeClaimTemplates, []);
        const data = sts.spec.template.spec.volumes.find((v: any) => v.name === "data");
        assert.deepStrictEqual(data, { name: "data", emptyDir: {} });
        assert.strictEqual(ofType(d.resources, TYPES.pvcPatch).length, 0);
    });

    it("probes health on the version's port and path", async () => {
        const five = containerOf(await deploy({ version: "5.8.9" }));
        assert.deepStrictEqual(five.readinessProbe.httpGet, { path: "/status", port: 18083 });
        const early = containerOf(await deploy({ version: "5.0.4" }));
        assert.deepStrictEqual(early.livenessProbe.httpGet, { path: "/api/v5/status", port: 18083 });
        const four = containerOf(await deploy({ version: "4.4.19", discovery: "k8s" }));
        assert.deepStrictEqual(four.readinessProbe.httpGet, { path: "/status", port: 8081 });
        assert.strictEqual(four.image, "emqx/emqx:4.4.19");
    });

    it("exposes mqtt, mqtts, ws and wss on the client Service of the requested type", async () => {
        for (const serviceType of ["NodePort", "LoadBalancer", "ClusterIP"] as const) {
            const d = await deploy({ serviceType });
            const client = ofType(d.resources, TYPES.service).find((s) => s.state.metadata.name === "emqx");
            assert.ok(client);
            assert.strictEqual(client.state.spec.type, serviceType);
            assert.deepStrictEqual(
                client.state.spec.ports.map((p: any) => [p.name, p.port]),
                [["mqtt", 1883], ["mqtts", 8883], ["ws", 8083], ["wss", 8084]],
            );
        }
    });

    it("limits voluntary disruptions to one pod, only when there is more than one", async () => {
        const pdb = (await deploy({ replicas: 3 })).spec(TYPES.pdb);
        assert.strictEqual(pdb.spec.maxUnavailable, 1);
        assert.deepStrictEqual(pdb.spec.selector.matchLabels, {
            "app.kubernetes.io/name": "emqx",
            "app.kubernetes.io/instance": "emqx",
            "emqx.pulumi.io/volume-generation": "0",
        });
        const single = await deploy({ replicas: 1 });
        assert.strictEqual(ofType(single.resources, TYPES.pdb).length, 0);
    });

    it("counts a Service as created once the apply returns it, a LoadBalancer once it has its address, never once its endpoints settle", async () => {
        const awaits = async (serviceType: "NodePort" | "LoadBalancer" | "ClusterIP", dashboardType = serviceType) => {
            const d = await deploy({ serviceType, dashboard: { service: { type: dashboardType } } });
            return Object.fromEntries(
                ofType(d.resources, TYPES.service).map((s) => [
                    s.state.metadata.name,
                    Object.fromEntries(Object.entries(s.state.metadata.annotations ?? {}).filter(([key]) => key.startsWith("pulumi.com/"))),
                ]),
            );
        };
        const skip = { "pulumi.com/skipAwait": "true" };
        const address = { "pulumi.com/waitFor": "jsonpath={.status.loadBalancer.ingress}" };
        assert.deepStrictEqual(await awaits("NodePort"), { "emqx-headless": skip, emqx: skip, "emqx-dashboard": skip });
        assert.deepStrictEqual(await awaits("ClusterIP"), { "emqx-headless": skip, emqx: skip, "emqx-dashboard": skip });
        // The outputs report the balancer's address: the update waits for it.
        assert.deepStrictEqual(await awaits("LoadBalancer", "ClusterIP"), { "emqx-headless": skip, emqx: address, "emqx-dashboard": skip });
        assert.deepStrictEqual(await awaits("NodePort", "LoadBalancer"), { "emqx-headless": skip, emqx: skip, "emqx-dashboard": address });
    });

    it("creates objects in dependency order: guard before everything, identity and config before the StatefulSet, claim patches after it", async () => {
        const d = await deploy({ discovery: "k8s" });
        const urnOf = (type: string) => ofType(d.resources, type).map((r) => r.urn);
        const sts = ofType(d.resources, TYPES.statefulSet)[0];
        const guard = d.resources.find((r) => r.type.endsWith(":ChangeGuard"));
        assert.ok(guard);
        for (const object of kubernetesObjects(d.resources)) {
            assert.ok(object.dependencies.includes(guard.urn), `${object.name} does not wait for the change guard`);
        }
        for (const before of [TYPES.serviceAccount, TYPES.roleBinding, TYPES.secret, TYPES.configMap]) {
            assert.ok(urnOf(before).every((u) => sts.dependencies.includes(u)), `StatefulSet does not wait for ${before}`);
        }
        const headless = ofType(d.resources, TYPES.service).find((s) => s.state.spec.clusterIP === "None");
        assert.ok(headless && sts.dependencies.includes(headless.urn));
        assert.ok(ofType(d.resources, TYPES.roleBinding)[0].dependencies.includes(urnOf(TYPES.role)[0]));
        // The claims exist once the StatefulSet controller made them: a patch before that would create a bare claim.
        assert.ok(ofType(d.resources, TYPES.pvcPatch).every((r) => r.dependencies.includes(sts.urn)), "a claim patch does not wait for the StatefulSet");
        // By then the claims are bound: the provider's per-claim await would only add requests.
        for (const patch of ofType(d.resources, TYPES.pvcPatch)) {
            assert.strictEqual(patch.inputs.metadata.annotations?.["pulumi.com/skipAwait"], "true", `${patch.name} is awaited`);
        }
    });

    it("creates the client Service and PDB alongside the first StatefulSet, and after a new volume generation's is Ready", async () => {
        const waitsForStatefulSet = async (volumeGeneration: number) => {
            const d = await deploy({ volumeGeneration });
            const sts = ofType(d.resources, TYPES.statefulSet)[0];
            const client = ofType(d.resources, TYPES.service).find((s) => s.state.metadata.name === "emqx");
            const pdb = ofType(d.resources, TYPES.pdb)[0];
            assert.ok(client && pdb);
            return [client, pdb].map((r) => r.dependencies.includes(sts.urn));
        };
        // Nothing to switch from: waiting for the rollout would only make the update longer.
        assert.deepStrictEqual(await waitsForStatefulSet(0), [false, false]);
        // A bump switches clients to the new pods: only once they are Ready.
        assert.deepStrictEqual(await waitsForStatefulSet(1), [true, true]);
        assert.deepStrictEqual(await waitsForStatefulSet(2), [true, true]);
    });

    it("parents every child to the component", async () => {
        const d = await deploy({});
        const component = d.resources.find((r) => r.type === TYPES.component);
        assert.ok(component);
        for (const child of d.resources.filter((r) => r !== component)) {
            assert.strictEqual(child.parentUrn, component.urn, child.name);
        }
    });
});

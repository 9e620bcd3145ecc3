import * as assert from "assert";
import { EmqxClusterArgs } from "../components";
import { changeGuardProvider } from "../components/change-guard";
import { ChangeGuardState, carriedState } from "../components/changes";
import { ResolvedArgs } from "../components/checks";
import { planCluster } from "../components/plan";
import { MockEngine, RegisteredResource, TYPES, kubernetesObjects, ofType, valueOf } from "./harness";
import { Deployment, deploy, statefulSetOf } from "./deploy";

/** Fields of a StatefulSet the API server refuses to change: a change needs a replacement. */
const IMMUTABLE_STATEFULSET_FIELDS = ["selector", "serviceName", "podManagementPolicy", "volumeClaimTemplates"];

interface Update {
    readonly before: Deployment;
    readonly after: Deployment;
    /** What the change guard says when the engine runs its check at preview time. */
    readonly refusals: string[];
}

/** Deploys `from`, then updates the same stack to `to`, as `pulumi up` twice would. */
async function update(from: EmqxClusterArgs, to: EmqxClusterArgs): Promise<Update> {
    const engine = new MockEngine();
    const before = await deploy(from, { engine });
    const after = await deploy(to, { engine });
    const guardOf = (d: Deployment) => d.resources.find((r) => r.type.endsWith(":ChangeGuard"))!.inputs;
    const checked = await changeGuardProvider.check!(guardOf(before), guardOf(after));
    return { before, after, refusals: (checked.failures ?? []).map((f) => f.reason) };
}

function byUrn(resources: readonly RegisteredResource[]): Map<string, RegisteredResource> {
    return new Map(kubernetesObjects(resources).map((r) => [r.urn, r]));
}

/** Kubernetes objects whose registered state differs between the two runs, by logical name. */
function changedObjects(u: Update): string[] {
    const before = byUrn(u.before.resources);
    return kubernetesObjects(u.after.resources)
        .filter((r) => JSON.stringify(before.get(r.urn)?.state) !== JSON.stringify(r.state))
        .map((r) => r.name)
        .sort();
}

function immutableChanges(u: Update): string[] {
    const [a, b] = [statefulSetOf(u.before).spec, statefulSetOf(u.after).spec];
    return IMMUTABLE_STATEFULSET_FIELDS.filter((f) => JSON.stringify(a[f]) !== JSON.stringify(b[f]));
}

describe("changing a running cluster", () => {
    it("rolls the pods when a setting changes, and changes nothing else", async () => {
        const u = await update({ emqxConfig: { "mqtt.max_packet_size": "1MB" } }, { emqxConfig: { "mqtt.max_packet_size": "2MB" } });
        assert.deepStrictEqual(u.refusals, []);
        // The ConfigMap gets a new generated name, which the pod template refers to: the pods roll.
        assert.deepStrictEqual(changedObjects(u), ["emqx-settings", "emqx-sts"]);
        const [a, b] = [statefulSetOf(u.before), statefulSetOf(u.after)];
        assert.notDeepStrictEqual(a.spec.template, b.spec.template);
        assert.deepStrictEqual({ ...a.spec, template: undefined }, { ...b.spec, template: undefined });
        assert.deepStrictEqual(immutableChanges(u), [], "the StatefulSet would be replaced");
        assert.strictEqual(b.spec.updateStrategy.type, "RollingUpdate");
        assert.strictEqual(ofType(u.after.resources, TYPES.pdb)[0].state.spec.maxUnavailable, 1);
    });

    it("replaces the ConfigMap and Secret on any change, even with a provider that treats them as mutable", async () => {
        const d = await deploy({});
        for (const type of [TYPES.configMap, TYPES.secret]) {
            // The kept Secrets (credentials, generated MQTT user) have fixed names and are never replaced.
            const object = ofType(d.resources, type).find((r) => !r.ignoreChanges.includes("stringData"))!;
            assert.deepStrictEqual(object.replaceOnChanges, ["*"], type);
            assert.strictEqual(object.inputs.metadata.name, undefined, `${type} must be auto-named`);
        }
    });

    it("changes nothing when nothing changed", async () => {
        const u = await update({ discovery: "k8s" }, { discovery: "k8s" });
        assert.deepStrictEqual(changedObjects(u), []);
        assert.deepStrictEqual(u.refusals, []);
    });

    it("scales up and down in place, keeping the claims of removed pods unless told otherwise", async () => {
        const u = await update({ replicas: 3 }, { replicas: 5 });
        assert.deepStrictEqual(u.refusals, []);
        assert.deepStrictEqual(immutableChanges(u), []);
        assert.strictEqual(statefulSetOf(u.after).spec.replicas, 5);
        assert.strictEqual(ofType(u.after.resources, TYPES.pvcPatch).length, 5);
        const down = await update({ replicas: 5 }, { replicas: 3 });
        assert.deepStrictEqual(down.refusals, []);
        assert.strictEqual(statefulSetOf(down.after).spec.persistentVolumeClaimRetentionPolicy.whenScaled, "Retain");
        // Forgetting the resize patches of removed pods never touches their claims.
        assert.ok(ofType(down.before.resources, TYPES.pvcPatch).every((p) => p.retainOnDelete));
        const deleting = await deploy({ replicas: 3, volumeRetentionOnScaleDown: "Delete" });
        assert.strictEqual(statefulSetOf(deleting).spec.persistentVolumeClaimRetentionPolicy.whenScaled, "Delete");
        assert.strictEqual(statefulSetOf(deleting).spec.persistentVolumeClaimRetentionPolicy.whenDeleted, "Retain");
    });

    it("grows volumes in place: the same claims resized by patches, the StatefulSet left as it is", async () => {
        const u = await update({ storageSize: "1Gi" }, { storageSize: "5Gi" });
        assert.deepStrictEqual(u.refusals, []);
        const [a, b] = [ofType(u.before.resources, TYPES.statefulSet)[0], ofType(u.after.resources, TYPES.statefulSet)[0]];
        assert.strictEqual(a.urn, b.urn);
        assert.strictEqual(a.state.metadata.name, b.state.metadata.name);
        // The engine keeps the template's size from the state: the immutable claim template never changes.
        assert.deepStrictEqual(immutableChanges(u), [], "the StatefulSet would be replaced");
        assert.strictEqual(b.state.spec.volumeClaimTemplates[0].spec.resources.requests.storage, "1Gi");
        const patches = ofType(u.after.resources, TYPES.pvcPatch);
        assert.deepStrictEqual(
            patches.map((p) => [p.state.metadata.name, p.state.spec.resources.requests.storage]),
            [0, 1, 2].map((i) => [`data-emqx-${i}`, "5Gi"]),
        );
    });

    for (const [title, from, to, field] of [
        ["a StorageClass change", { storageClass: "standard" }, { storageClass: "fast-ssd" }, "storageClass"],
        ["a shrink", { storageSize: "10Gi" }, { storageSize: "5Gi" }, "storageSize"],
        ["turning persistence off", {}, { persistence: false }, "persistence"],
    ] as [string, EmqxClusterArgs, EmqxClusterArgs, string][]) {
        it(`refuses ${title} at preview, unless volumeGeneration is bumped for new, empty volumes`, async () => {
            const refused = await update(from, to);
            assert.strictEqual(refused.refusals.length, 1);
            assert.match(refused.refusals[0], new RegExp(`^${field}: .*bump volumeGeneration \\(to 1\\)`));
            const accepted = await update(from, { ...to, volumeGeneration: 1 });
            assert.deepStrictEqual(accepted.refusals, []);
            // A new StatefulSet resource and object: created next to the old one, which Pulumi then deletes.
            const [old, next] = [ofType(accepted.before.resources, TYPES.statefulSet)[0], ofType(accepted.after.resources, TYPES.statefulSet)[0]];
            assert.notStrictEqual(next.urn, old.urn);
            assert.strictEqual(next.state.metadata.name, "emqx-g1");
            const claims = (d: Deployment) => ofType(d.resources, TYPES.pvcPatch).map((p) => p.state.metadata.name);
            if (next.state.spec.volumeClaimTemplates.length > 0) {
                assert.deepStrictEqual(claims(accepted.after), ["data-emqx-g1-0", "data-emqx-g1-1", "data-emqx-g1-2"], "new claims, never the old volumes");
            }
            // The Services and the PDB follow the new generation's pods only, so the two never form one cluster.
            const selectors = ofType(accepted.after.resources, TYPES.service).map((s) => s.state.spec.selector);
            assert.ok(selectors.every((s) => s["emqx.pulumi.io/volume-generation"] === "1"));
            assert.strictEqual(next.state.spec.selector.matchLabels["emqx.pulumi.io/volume-generation"], "1");
        });
    }

    it("refuses to lower volumeGeneration, which would bring old volumes back", async () => {
        const u = await update({ volumeGeneration: 2 }, { volumeGeneration: 1 });
        assert.match(u.refusals[0], /^volumeGeneration: .*only go up/);
    });

    it("rolls a version upgrade within a major: only the image changes", async () => {
        const u = await update({ version: "5.8.8" }, { version: "5.8.9" });
        assert.deepStrictEqual(u.refusals, []);
        assert.deepStrictEqual(immutableChanges(u), []);
        assert.strictEqual(statefulSetOf(u.after).spec.template.spec.containers[0].image, "emqx/emqx:5.8.9");
    });

    it("refuses 4.x to 5.x, naming the reason and the migration path", async () => {
        const u = await update({ version: "4.4.19", discovery: "k8s" }, { version: "5.8.9", discovery: "k8s" });
        assert.strictEqual(u.refusals.length, 1);
        assert.match(u.refusals[0], /^version: EMQX 4\.4\.19 -> 5\.8\.9 is not a rolling upgrade.*data export/);
    });

    it("refuses 5.0-5.3 straight to 5.10+, and accepts it from 5.4", async () => {
        const licensed = { licenseKey: "key" };
        const refused = await update({ version: "5.3.2" }, { version: "5.10.1", ...licensed });
        assert.match(refused.refusals[0], /^version: EMQX 5\.3\.2 -> 5\.10\.1: .*v2 routing schema.*bump volumeGeneration \(to 1\)/);
        const accepted = await update({ version: "5.4.1" }, { version: "5.10.1", ...licensed });
        assert.deepStrictEqual(accepted.refusals, []);
    });

    it("treats a new namespace or clusterName as a new cluster with its own objects and claims", async () => {
        const u = await update({ namespace: "a" }, { namespace: "b" });
        assert.deepStrictEqual(u.refusals, []);
        for (const object of kubernetesObjects(u.after.resources)) {
            assert.strictEqual(object.state.metadata.namespace, "b");
        }
        const renamed = await update({ clusterName: "emqx" }, { clusterName: "broker" });
        assert.deepStrictEqual(renamed.refusals, []);
        const claims = (d: Deployment) => ofType(d.resources, TYPES.pvcPatch).map((p) => p.state.metadata.name);
        assert.ok(claims(renamed.after).every((c) => !claims(renamed.before).includes(c)), "two clusters would share claims");
    });

    it("refuses a clusterDomain change, which renames every node on its old volume, unless volumeGeneration is bumped", async () => {
        const u = await update({ clusterDomain: "cluster.local" }, { clusterDomain: "corp.example" });
        assert.strictEqual(u.refusals.length, 1);
        assert.match(
            u.refusals[0],
            /^clusterDomain: cluster\.local -> corp\.example renames every node .*emqx@emqx-0\.emqx-headless\.default\.svc\.corp\.example.*data\/mnesia\/<node name>.*bump volumeGeneration \(to 1\)/,
        );
        const moved = await update({ clusterDomain: "cluster.local" }, { clusterDomain: "corp.example", volumeGeneration: 1 });
        assert.deepStrictEqual(moved.refusals, []);
    });

    // Every arg, changed on its own: whenever the node names change on the same volumes, the guard refuses. Args that
    // start a new cluster (clusterName, namespace) or new volumes (volumeGeneration) are the way to rename nodes.
    const ARG_CHANGES: [string, EmqxClusterArgs, EmqxClusterArgs][] = [
        ["clusterDomain", {}, { clusterDomain: "corp.example" }],
        ["clusterName", {}, { clusterName: "broker" }],
        ["namespace", {}, { namespace: "iot" }],
        ["volumeGeneration", {}, { volumeGeneration: 1 }],
        ["replicas", {}, { replicas: 5 }],
        ["version", {}, { version: "5.8.8" }],
        ["discovery", {}, { discovery: "k8s" }],
        ["serviceType", {}, { serviceType: "ClusterIP" }],
        ["image", {}, { image: "registry.example/emqx/emqx" }],
        ["externalHost", {}, { externalHost: "mqtt.example.com" }],
        ["storageSize", {}, { storageSize: "2Gi" }],
        ["emqxConfig", {}, { emqxConfig: { "mqtt.max_packet_size": "2MB" } }],
        ["dashboard", {}, { dashboard: { username: "operator" } }],
        ["volumeRetentionOnScaleDown", {}, { volumeRetentionOnScaleDown: "Delete" }],
    ];
    for (const [arg, from, to] of ARG_CHANGES) {
        it(`never renames nodes on their old volumes when ${arg} changes`, async () => {
            const u = await update(from, to);
            const [before, after] = [await valueOf(u.before.cluster.nodeNames), await valueOf(u.after.cluster.nodeNames)];
            // A node keeps its name if the pod of its ordinal does; added or removed ordinals are no rename.
            const renamed = before.some((name, ordinal) => ordinal < after.length && after[ordinal] !== name);
            const sts = (d: Deployment) => statefulSetOf(d);
            const sameVolumes =
                sts(u.before).metadata.name === sts(u.after).metadata.name &&
                sts(u.before).metadata.namespace === sts(u.after).metadata.namespace;
            if (sameVolumes && renamed) {
                assert.ok(u.refusals.some((r) => /renames every node/.test(r)), `${arg} renamed the nodes unrefused: ${u.refusals}`);
            } else {
                assert.ok(!u.refusals.some((r) => /renames every node/.test(r)), `${arg}: ${u.refusals}`);
            }
        });
    }

    it("refuses an ipFamily change, even with new volumes: the Services keep their primary family", async () => {
        for (const volumeGeneration of [0, 1]) {
            const u = await update({ version: "5.8.9" }, { version: "5.8.9", ipFamily: "IPv6", volumeGeneration });
            assert.strictEqual(u.refusals.length, 1);
            assert.match(u.refusals[0], /^ipFamily: IPv4 -> IPv6: Kubernetes refuses .*another clusterName/);
        }
    });

    it("tells the cluster's default StorageClass from an explicit empty class", async () => {
        const u = await update({}, { storageClass: "" });
        assert.match(u.refusals[0], /^storageClass: "\(cluster default\)" -> "" \(no dynamic provisioning\)/);
        assert.deepStrictEqual((await update({ storageClass: "" }, { storageClass: "" })).refusals, []);
    });
});

/** What `pulumi preview` asks the guard: the stored inputs of the last update against the new ones. */
async function previewRefusals(old: ChangeGuardState, next: ChangeGuardState): Promise<string[]> {
    const checked = await changeGuardProvider.check!({ state: old }, { state: next });
    return (checked.failures ?? []).map((f) => f.reason);
}

/** The guard's stored state after `pulumi up` creates or updates the cluster with `state`. */
async function stored(old: ChangeGuardState | undefined, next: ChangeGuardState): Promise<ChangeGuardState> {
    const checked = await changeGuardProvider.check!(old ? { state: old } : {}, { state: next });
    assert.deepStrictEqual(checked.failures ?? [], [], "the update was refused");
    return checked.inputs.state;
}

function guardFor(version: string, extra: EmqxClusterArgs = {}): ChangeGuardState {
    const licensed = /^5\.(9|1\d)\./.test(version) ? { hasLicenseKey: true } : {};
    // Anonymous clients stay allowed: these tests are about versions (and 4.0-4.2 cannot authenticate clients).
    const anonymous = { authentication: { allowAnonymous: true } };
    return planCluster("emqx", { version, discovery: "static", ...licensed, ...anonymous, ...extra } as ResolvedArgs).guard;
}

/**
 * One release per minor line of every family in the version table, plus the patch releases where EMQX's
 * rolling-upgrade rules change (4.2.4, 5.8.7, 5.9.1, 5.10.1).
 */
const RELEASES = [
    "4.0.13", "4.1.5", "4.2.3", "4.2.14", "4.3.22", "4.4.19",
    "5.0.26", "5.1.6", "5.2.1", "5.3.2", "5.4.1", "5.5.1", "5.6.1", "5.7.2", "5.8.6", "5.8.9",
    "5.9.0", "5.9.1", "5.10.0", "5.10.1",
];

/** EMQX's documented rolling changes, written out from its upgrade guides and its 5.x matrix (docs/emqx-facts.md). */
function documentedRolling(from: string, to: string): boolean {
    const [fa, fb, fc] = from.split(".").map(Number);
    const [ta, tb] = to.split(".").map(Number);
    if (fa !== ta) {
        return false; // 4.x <-> 5.x
    }
    if (fb === tb) {
        return true; // patch releases of one minor, either way
    }
    if (tb < fb) {
        return false; // no documented downgrade to an older minor
    }
    if (fa === 4) {
        return fb === 3 && tb === 4; // 4.3 -> 4.4 is the only cross-minor roll of 4.x
    }
    if (tb >= 10 && fb < 4) {
        return false; // note 2: v1 routing schema
    }
    if ((to === "5.9.0" || to === "5.10.0") && fb === 8 && fc >= 7) {
        return false; // note 3: OpenTelemetry headers of 5.8.7+
    }
    return true;
}

describe("version changes EMQX cannot roll", () => {
    for (const from of RELEASES) {
        it(`from ${from}: allows exactly the documented rolling changes to every other release`, async () => {
            const old = await stored(undefined, guardFor(from));
            const wrong: string[] = [];
            for (const to of RELEASES) {
                const refusals = await previewRefusals(old, guardFor(to));
                const expected = documentedRolling(from, to);
                if (expected !== (refusals.length === 0)) {
                    wrong.push(`${from} -> ${to}: expected ${expected ? "allowed" : "refused"}, got ${JSON.stringify(refusals)}`);
                }
                for (const reason of refusals) {
                    assert.match(reason, /^version: EMQX .*emqx ctl data export.*bump volumeGeneration \(to 1\).*data import/, reason);
                }
                // A new cluster on new volumes takes nothing over: always allowed.
                assert.deepStrictEqual(await previewRefusals(old, guardFor(to, { volumeGeneration: 1 })), []);
            }
            assert.deepStrictEqual(wrong, []);
        });
    }

    it("names EMQX's reason for each refused kind", async () => {
        const reason = async (from: string, to: string) => (await previewRefusals(await stored(undefined, guardFor(from)), guardFor(to)))[0];
        assert.match(await reason("4.2.14", "4.3.22"), /database schema and the inter-node API: a 4\.3 node cannot join a 4\.2 cluster/);
        assert.match(await reason("4.1.5", "4.2.14"), /no rolling upgrade between 4\.0, 4\.1 and 4\.2/);
        assert.match(await reason("4.4.19", "5.8.9"), /4\.x and 5\.x differ/);
        assert.match(await reason("5.8.9", "5.7.2"), /older minor release.*stay on 5\.8\.x/);
        assert.match(await reason("5.8.9", "5.9.0"), /OpenTelemetry.*roll to 5\.9\.1 or 5\.10\.1/);
        assert.match(await reason("5.3.2", "5.10.1"), /v2 routing schema/);
    });

    it("ranks a floating tag as its newest patch release", async () => {
        const floating = await stored(undefined, guardFor("5.8"));
        assert.match((await previewRefusals(floating, guardFor("5.9.0")))[0], /OpenTelemetry/);
        assert.deepStrictEqual(await previewRefusals(floating, guardFor("5.9.1")), []);
        assert.deepStrictEqual(await previewRefusals(floating, guardFor("5.8.9")), []);
    });

    it("remembers which release created the data: a cluster started on 5.3 never rolls to 5.10+, even through 5.9", async () => {
        const created = await stored(undefined, guardFor("5.3.2"));
        const rolled = await stored(created, guardFor("5.9.1"));
        assert.strictEqual(rolled.dataCreatedRank, 50302);
        const refusals = await previewRefusals(rolled, guardFor("5.10.1"));
        assert.strictEqual(refusals.length, 1);
        assert.match(refusals[0], /^version: EMQX 5\.10\.1 cannot take over this cluster's data, created on 5\.3\.2/);
        // New volumes start a new history.
        const fresh = await stored(rolled, guardFor("5.9.1", { volumeGeneration: 1 }));
        assert.strictEqual(fresh.dataCreatedRank, 50901);
        assert.deepStrictEqual(await previewRefusals(fresh, guardFor("5.10.1", { volumeGeneration: 1 })), []);
        // Started on 5.4: the v2 schema, fine.
        assert.deepStrictEqual(await previewRefusals(await stored(undefined, guardFor("5.4.1")), guardFor("5.10.1")), []);
    });

    it("applies the rules to a state stored before these fields existed", async () => {
        const legacy = { ...guardFor("4.2.14") } as Record<string, unknown>;
        for (const field of ["refusedSources", "dataCreatedSinceRank", "dataCreatedRank", "clusterDomain", "firstNodeName", "ipFamily", "noDynamicProvisioning"]) {
            delete legacy[field];
        }
        const refusals = await previewRefusals(legacy as unknown as ChangeGuardState, guardFor("4.3.22"));
        assert.match(refusals[0], /^version: .*4\.3 node cannot join a 4\.2 cluster/);
        assert.deepStrictEqual(await previewRefusals(legacy as unknown as ChangeGuardState, guardFor("4.2.14")), []);
        assert.strictEqual(carriedState(legacy as unknown as ChangeGuardState, guardFor("4.2.14")).dataCreatedRank, 40214);
    });
});

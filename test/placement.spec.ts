/** `placement` and `pod`: where the pods run, what they carry, how they roll, and what is refused. */
import * as assert from "assert";
import * as pulumi from "@pulumi/pulumi";
import { EmqxClusterArgs } from "../components";
import { TYPES } from "./harness";
import { containerOf, deploy, problemsOf, statefulSetOf } from "./deploy";

const GENERATION_PODS = {
    "app.kubernetes.io/name": "emqx",
    "app.kubernetes.io/instance": "emqx",
    "emqx.pulumi.io/volume-generation": "0",
};

describe("placement: where the pods run", () => {
    it("spreads the pods softly across zones and hosts by default, keeping the soft host anti-affinity", async () => {
        const pod = statefulSetOf(await deploy({})).spec.template.spec;
        assert.deepStrictEqual(pod.topologySpreadConstraints, [
            { maxSkew: 1, topologyKey: "topology.kubernetes.io/zone", whenUnsatisfiable: "ScheduleAnyway", labelSelector: { matchLabels: GENERATION_PODS } },
            { maxSkew: 1, topologyKey: "kubernetes.io/hostname", whenUnsatisfiable: "ScheduleAnyway", labelSelector: { matchLabels: GENERATION_PODS } },
        ]);
        const [anti] = pod.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution;
        assert.deepStrictEqual(anti, { weight: 100, podAffinityTerm: { topologyKey: "kubernetes.io/hostname", labelSelector: { matchLabels: GENERATION_PODS } } });
        for (const absent of ["nodeSelector", "tolerations", "priorityClassName", "imagePullSecrets"]) {
            assert.ok(!(absent in pod), `${absent} is set by default`);
        }
    });

    it("selects the new generation's pods in the default spread after a volume generation bump", async () => {
        const [zone] = statefulSetOf(await deploy({ volumeGeneration: 2 })).spec.template.spec.topologySpreadConstraints;
        assert.strictEqual(zone.labelSelector.matchLabels["emqx.pulumi.io/volume-generation"], "2");
    });

    it("puts nodeSelector, tolerations, affinity, spread and priority class into the pod spec; the given affinity replaces the default", async () => {
        const affinity = {
            nodeAffinity: {
                requiredDuringSchedulingIgnoredDuringExecution: {
                    nodeSelectorTerms: [{ matchExpressions: [{ key: "pool", operator: "In", values: ["mqtt"] }] }],
                },
            },
        };
        const pod = statefulSetOf(
            await deploy({
                placement: {
                    nodeSelector: { "kubernetes.io/arch": "amd64" },
                    tolerations: [{ key: "dedicated", operator: "Equal", value: "mqtt", effect: "NoSchedule" }],
                    affinity,
                    topologySpreadConstraints: [
                        { maxSkew: 1, topologyKey: "topology.kubernetes.io/zone", whenUnsatisfiable: "DoNotSchedule" },
                        { maxSkew: 2, topologyKey: "rack", whenUnsatisfiable: "ScheduleAnyway", labelSelector: { matchLabels: { app: "x" } } },
                    ],
                    priorityClassName: "mqtt-critical",
                },
            }),
        ).spec.template.spec;
        assert.deepStrictEqual(pod.nodeSelector, { "kubernetes.io/arch": "amd64" });
        assert.deepStrictEqual(pod.tolerations, [{ key: "dedicated", operator: "Equal", value: "mqtt", effect: "NoSchedule" }]);
        assert.deepStrictEqual(pod.affinity, affinity);
        assert.strictEqual(pod.priorityClassName, "mqtt-critical");
        // A constraint without a selector selects this generation's pods; a given selector is kept.
        assert.deepStrictEqual(pod.topologySpreadConstraints, [
            { maxSkew: 1, topologyKey: "topology.kubernetes.io/zone", whenUnsatisfiable: "DoNotSchedule", labelSelector: { matchLabels: GENERATION_PODS } },
            { maxSkew: 2, topologyKey: "rack", whenUnsatisfiable: "ScheduleAnyway", labelSelector: { matchLabels: { app: "x" } } },
        ]);
    });

    it("turns spreading off with an empty list", async () => {
        const pod = statefulSetOf(await deploy({ placement: { topologySpreadConstraints: [] } })).spec.template.spec;
        assert.deepStrictEqual(pod.topologySpreadConstraints, []);
    });

    it("sets the PodDisruptionBudget's minAvailable or maxUnavailable, never both", async () => {
        const min = (await deploy({ replicas: 5, placement: { disruptionBudget: { minAvailable: 3 } } })).spec(TYPES.pdb).spec;
        assert.strictEqual(min.minAvailable, 3);
        assert.ok(!("maxUnavailable" in min));
        const max = (await deploy({ replicas: 5, placement: { disruptionBudget: { maxUnavailable: 2 } } })).spec(TYPES.pdb).spec;
        assert.strictEqual(max.maxUnavailable, 2);
        assert.ok(!("minAvailable" in max));
    });

    it("takes placement as an Output, with the same objects as the plain value", async () => {
        const placement = { nodeSelector: { pool: "mqtt" }, priorityClassName: "high" };
        // The containers refer to a Secret whose name holds a generated password: compare the rest of the pod.
        const podSpec = async (args: EmqxClusterArgs) => {
            const { containers, ...rest } = statefulSetOf(await deploy(args)).spec.template.spec;
            assert.ok(containers);
            return rest;
        };
        const plain = await podSpec({ placement });
        const fromOutput = await podSpec({ placement: pulumi.output(placement) });
        assert.deepStrictEqual(fromOutput, plain);
        assert.strictEqual(fromOutput.priorityClassName, "high");
    });
});

describe("pod: what the pods carry and how they roll", () => {
    it("keeps the defaults: IfNotPresent, a 60 s grace period, the component's labels and scrape annotations, the probe timings", async () => {
        const d = await deploy({});
        const sts = statefulSetOf(d);
        const container = containerOf(d);
        assert.strictEqual(container.imagePullPolicy, "IfNotPresent");
        assert.strictEqual(sts.spec.template.spec.terminationGracePeriodSeconds, 60);
        assert.ok(!("minReadySeconds" in sts.spec));
        assert.deepStrictEqual(sts.spec.template.metadata.annotations, {
            "prometheus.io/scrape": "true",
            "prometheus.io/port": "18083",
            "prometheus.io/path": "/api/v5/prometheus/stats",
        });
        const timing = ({ httpGet, ...rest }: Record<string, unknown>) => (assert.ok(httpGet), rest);
        assert.deepStrictEqual(timing(container.startupProbe), { periodSeconds: 5, timeoutSeconds: 5, failureThreshold: 60 });
        assert.deepStrictEqual(timing(container.readinessProbe), { periodSeconds: 5, timeoutSeconds: 5, failureThreshold: 3 });
        assert.deepStrictEqual(timing(container.livenessProbe), { periodSeconds: 15, timeoutSeconds: 5, failureThreshold: 4 });
        assert.ok(!("annotations" in d.spec(TYPES.serviceAccount).metadata));
    });

    it("adds labels and annotations to the pods, annotations to the ServiceAccount, pull secrets, pull policy and timings", async () => {
        const d = await deploy({
            pod: {
                labels: { "sidecar.istio.io/inject": "false", team: "iot" },
                annotations: { "vault.hashicorp.com/agent-inject": "true" },
                serviceAccountAnnotations: { "eks.amazonaws.com/role-arn": "arn:aws:iam::123456789012:role/emqx" },
                imagePullSecrets: ["regcred", "mirror-cred"],
                imagePullPolicy: "Always",
                terminationGracePeriodSeconds: 120,
                minReadySeconds: 10,
                probes: { liveness: { periodSeconds: 30, initialDelaySeconds: 10 }, readiness: { successThreshold: 2 } },
            },
        });
        const sts = statefulSetOf(d);
        const template = sts.spec.template;
        assert.strictEqual(template.metadata.labels.team, "iot");
        assert.strictEqual(template.metadata.labels["sidecar.istio.io/inject"], "false");
        assert.strictEqual(template.metadata.labels["app.kubernetes.io/instance"], "emqx");
        assert.strictEqual(template.metadata.annotations["vault.hashicorp.com/agent-inject"], "true");
        assert.strictEqual(template.metadata.annotations["prometheus.io/scrape"], "true");
        // Pod labels stay on the pods: the StatefulSet's own labels and selector are the component's.
        assert.strictEqual(sts.metadata.labels.team, undefined);
        assert.deepStrictEqual(sts.spec.selector.matchLabels, GENERATION_PODS);
        assert.deepStrictEqual(d.spec(TYPES.serviceAccount).metadata.annotations, {
            "eks.amazonaws.com/role-arn": "arn:aws:iam::123456789012:role/emqx",
        });
        assert.deepStrictEqual(template.spec.imagePullSecrets, [{ name: "regcred" }, { name: "mirror-cred" }]);
        assert.strictEqual(template.spec.terminationGracePeriodSeconds, 120);
        assert.strictEqual(sts.spec.minReadySeconds, 10);
        const container = containerOf(d);
        assert.strictEqual(container.imagePullPolicy, "Always");
        assert.strictEqual(container.livenessProbe.periodSeconds, 30);
        assert.strictEqual(container.livenessProbe.initialDelaySeconds, 10);
        assert.strictEqual(container.livenessProbe.failureThreshold, 4, "an unset timing keeps its default");
        assert.strictEqual(container.readinessProbe.successThreshold, 2);
        assert.deepStrictEqual(container.startupProbe.httpGet, { path: "/status", port: 18083 });
    });
});

const REFUSED: [string, EmqxClusterArgs, RegExp][] = [
    ["a selector label in pod.labels", { pod: { labels: { "app.kubernetes.io/instance": "other" } } }, /^pod\.labels\["app\.kubernetes\.io\/instance"\]: is a selector label the component owns: .*remove it$/],
    ["the volume generation label in pod.labels", { pod: { labels: { "emqx.pulumi.io/volume-generation": "9" } } }, /^pod\.labels\["emqx\.pulumi\.io\/volume-generation"\]: is a selector label/],
    ["another label the component sets", { pod: { labels: { "app.kubernetes.io/version": "x" } } }, /^pod\.labels\["app\.kubernetes\.io\/version"\]: the component sets it/],
    ["a scrape annotation", { pod: { annotations: { "prometheus.io/path": "/metrics" } } }, /^pod\.annotations\["prometheus\.io\/path"\]: the component sets it for the version's metrics endpoint/],
    ["a label key that is no Kubernetes key", { pod: { labels: { "bad key": "x" } } }, /^pod\.labels\["bad key"\]: is not a Kubernetes key/],
    ["a label value that is too long", { pod: { labels: { team: "x".repeat(64) } } }, /^pod\.labels\["team"\]: ".*" is not a label value/],
    ["a nodeSelector value that is no label value", { placement: { nodeSelector: { pool: "a b" } } }, /^placement\.nodeSelector\["pool"\]: "a b" is not a label value/],
    ["a toleration with an unknown effect", { placement: { tolerations: [{ key: "k", effect: "NoRun" }] } }, /^placement\.tolerations\[0\]\.effect: must be equal to one of the allowed values: NoExecute, NoSchedule, PreferNoSchedule$/],
    ["a spread constraint without whenUnsatisfiable", { placement: { topologySpreadConstraints: [{ maxSkew: 1, topologyKey: "zone" } as never] } }, /^placement\.topologySpreadConstraints\[0\]: must have required property whenUnsatisfiable$/],
    ["a node affinity without terms", { placement: { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: {} as never } } } }, /^placement\.affinity\.nodeAffinity\.requiredDuringSchedulingIgnoredDuringExecution: must have required property nodeSelectorTerms$/],
    ["an invalid priority class name", { placement: { priorityClassName: "High_Priority" } }, /^placement\.priorityClassName: "High_Priority" is not a valid PriorityClass name$/],
    ["both budgets", { placement: { disruptionBudget: { maxUnavailable: 1, minAvailable: 2 } } }, /^placement\.disruptionBudget: give exactly one of maxUnavailable and minAvailable/],
    ["a minAvailable that blocks every drain", { placement: { disruptionBudget: { minAvailable: 3 } } }, /^placement\.disruptionBudget\.minAvailable: 3 with 3 replicas lets no pod be evicted.*at most 2$/],
    ["a maxUnavailable of 0", { placement: { disruptionBudget: { maxUnavailable: 0 } } }, /^placement\.disruptionBudget\.maxUnavailable: 0 must be a whole number, 1 or more$/],
    ["a budget for a single node", { replicas: 1, discovery: "manual", placement: { disruptionBudget: { maxUnavailable: 1 } } }, /^placement\.disruptionBudget: a single node gets no PodDisruptionBudget/],
    ["an unknown pull policy", { pod: { imagePullPolicy: "Sometimes" } }, /^pod\.imagePullPolicy: "Sometimes" must be one of IfNotPresent, Always, Never$/],
    ["a pull secret that is no Secret name", { pod: { imagePullSecrets: ["Reg Cred"] } }, /^pod\.imagePullSecrets\[0\]: "Reg Cred" is not a Secret name/],
    ["a negative grace period", { pod: { terminationGracePeriodSeconds: -1 } }, /^pod\.terminationGracePeriodSeconds: -1 must be a whole number, 0 or more$/],
    ["a fractional minReadySeconds", { pod: { minReadySeconds: 1.5 } }, /^pod\.minReadySeconds: 1\.5 must be a whole number, 0 or more$/],
    ["a liveness successThreshold above 1", { pod: { probes: { liveness: { successThreshold: 2 } } } }, /^pod\.probes\.liveness\.successThreshold: Kubernetes allows only 1 for liveness probes/],
    ["a probe period of 0", { pod: { probes: { readiness: { periodSeconds: 0 } } } }, /^pod\.probes\.readiness\.periodSeconds: 0 must be a whole number, 1 or more$/],
    ["an unknown probe", { pod: { probes: { health: {} } as never } }, /^pod\.probes\.health: unknown probe; use startup, readiness or liveness$/],
    ["an unknown probe timing", { pod: { probes: { startup: { timeout: 3 } as never } } }, /^pod\.probes\.startup\.timeout: unknown timing; use initialDelaySeconds/],
];

describe("placement and pod values that are refused before any object is created", () => {
    for (const [title, args, message] of REFUSED) {
        it(`refuses ${title}`, async () => {
            const problems = await problemsOf(args);
            assert.ok(problems.some((p) => message.test(p)), `no problem matches ${message}: ${JSON.stringify(problems)}`);
        });
    }

    it("refuses a selector label given inside an Output once it is known", async () => {
        const problems = await problemsOf({ pod: pulumi.output({ labels: { "app.kubernetes.io/name": "mine" } }) });
        assert.ok(problems.some((p) => p.startsWith(`pod.labels["app.kubernetes.io/name"]: is a selector label`)), JSON.stringify(problems));
    });

    it("refuses a toleration given as an Output once it is known", async () => {
        const problems = await problemsOf({ placement: { tolerations: [pulumi.output({ key: "k", effect: "Never" })] } });
        assert.ok(problems.some((p) => p.startsWith("placement.tolerations[0].effect: must be equal to one of")), JSON.stringify(problems));
    });
});

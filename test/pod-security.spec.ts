import * as assert from "assert";
import { EmqxClusterArgs } from "../components";
import { assertRefusedBeforeCreating, deploy, statefulSetOf } from "./deploy";
import { MATRIX } from "./matrix";

/**
 * The Pod Security Standards "restricted" profile, control by control (kubernetes.io/docs/concepts/security/
 * pod-security-standards, "Baseline" and "Restricted"), as the admission controller applies it to a pod spec.
 * Returns every violation as `field: rule`.
 */
function restrictedViolations(pod: Record<string, any>): string[] {
    const violations: string[] = [];
    const fail = (field: string, rule: string) => violations.push(`${field}: ${rule}`);
    const podContext = pod.securityContext ?? {};
    const containers: [string, Record<string, any>][] = ["containers", "initContainers", "ephemeralContainers"].flatMap(
        (list) => (pod[list] ?? []).map((c: any, i: number) => [`${list}[${i}]`, c] as [string, Record<string, any>]),
    );

    // Baseline: host namespaces, host processes, host paths and ports, sysctls, AppArmor, SELinux, /proc.
    for (const field of ["hostNetwork", "hostPID", "hostIPC"]) {
        if (pod[field] === true) fail(field, "must be unset or false");
    }
    if (podContext.windowsOptions?.hostProcess === true) fail("securityContext.windowsOptions.hostProcess", "must not be true");
    for (const sysctl of podContext.sysctls ?? []) fail(`securityContext.sysctls.${sysctl.name}`, "only the safe set; none needed");
    if (podContext.seLinuxOptions?.user || podContext.seLinuxOptions?.role) fail("securityContext.seLinuxOptions", "user/role must be unset");
    if (podContext.appArmorProfile?.type === "Unconfined") fail("securityContext.appArmorProfile", "must not be Unconfined");

    // Restricted: volume types.
    const allowedVolumes = ["configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim", "projected", "secret"];
    for (const volume of pod.volumes ?? []) {
        const sources = Object.keys(volume).filter((k) => k !== "name");
        if (sources.length !== 1 || !allowedVolumes.includes(sources[0])) fail(`volumes.${volume.name}`, `type ${sources} not allowed`);
    }
    // Restricted: non-root, at pod level or in every container; never uid 0.
    if (podContext.runAsUser === 0) fail("securityContext.runAsUser", "must not be 0");
    // Restricted: seccomp RuntimeDefault or Localhost, at pod level or in every container; never Unconfined.
    const seccompOk = (profile: any) => profile?.type === "RuntimeDefault" || profile?.type === "Localhost";
    if (podContext.seccompProfile && !seccompOk(podContext.seccompProfile)) fail("securityContext.seccompProfile", "must be RuntimeDefault or Localhost");

    for (const [field, container] of containers) {
        const context = container.securityContext ?? {};
        if (context.privileged === true) fail(`${field}.securityContext.privileged`, "must be unset or false");
        if (context.windowsOptions?.hostProcess === true) fail(`${field}.securityContext.windowsOptions.hostProcess`, "must not be true");
        for (const port of container.ports ?? []) {
            if (port.hostPort) fail(`${field}.ports.${port.name}.hostPort`, "must be unset or 0");
        }
        if (context.procMount !== undefined && context.procMount !== "Default") fail(`${field}.securityContext.procMount`, "must be Default");
        if (context.seLinuxOptions?.user || context.seLinuxOptions?.role) fail(`${field}.securityContext.seLinuxOptions`, "user/role must be unset");
        if (context.appArmorProfile?.type === "Unconfined") fail(`${field}.securityContext.appArmorProfile`, "must not be Unconfined");
        if (context.allowPrivilegeEscalation !== false) fail(`${field}.securityContext.allowPrivilegeEscalation`, "must be false");
        if ((context.runAsNonRoot ?? podContext.runAsNonRoot) !== true) fail(`${field}.securityContext.runAsNonRoot`, "must be true (here or for the pod)");
        if (context.runAsUser === 0) fail(`${field}.securityContext.runAsUser`, "must not be 0");
        const seccomp = context.seccompProfile ?? podContext.seccompProfile;
        if (!seccompOk(seccomp)) fail(`${field}.securityContext.seccompProfile`, "must be RuntimeDefault or Localhost (here or for the pod)");
        if (!(context.capabilities?.drop ?? []).includes("ALL")) fail(`${field}.securityContext.capabilities.drop`, "must include ALL");
        for (const added of context.capabilities?.add ?? []) {
            if (added !== "NET_BIND_SERVICE") fail(`${field}.securityContext.capabilities.add`, `${added} not allowed`);
        }
    }
    return violations;
}

const CASES: [string, EmqxClusterArgs][] = [
    ...MATRIX.map(({ version, modes, licenseKey, authentication }): [string, EmqxClusterArgs] => [
        `EMQX ${version}`,
        { version, discovery: modes[0], licenseKey, authentication },
    ]),
    ["k8s discovery (API token mounted)", { discovery: "k8s" }],
    ["etcd discovery with a TLS Secret", { discovery: "etcd", etcd: { endpoints: ["https://etcd:2379"], tlsSecretName: "etcd-tls" } }],
    ["a single node without persistence", { discovery: "manual", replicas: 1, persistence: false }],
];

describe("every pod passes the Pod Security Standards restricted profile", () => {
    for (const [title, args] of CASES) {
        it(title, async () => {
            const pod = statefulSetOf(await deploy(args)).spec.template.spec;
            assert.ok(pod.containers.length > 0);
            assert.deepStrictEqual(restrictedViolations(pod), []);
        });
    }

    for (const { version, modes, licenseKey, authentication } of MATRIX) {
        const readOnly = version.replace(/^v/, "").startsWith("5");
        it(`${readOnly ? "mounts the root filesystem read-only" : "keeps the root filesystem writable"} on EMQX ${version}`, async () => {
            const pod = statefulSetOf(await deploy({ version, discovery: modes[0], licenseKey, authentication })).spec.template.spec;
            const emqx = pod.containers[0];
            const mounts = Object.fromEntries(emqx.volumeMounts.map((m: any) => [m.mountPath, m.name]));
            const emptyDirs = pod.volumes.filter((v: any) => v.emptyDir).map((v: any) => v.name);
            if (readOnly) {
                assert.strictEqual(emqx.securityContext.readOnlyRootFilesystem, true);
                // Every path 5.x writes: data (the claim), log, /tmp and the plugin install directory.
                assert.deepStrictEqual(
                    ["/opt/emqx/data", "/opt/emqx/log", "/tmp", "/opt/emqx/plugins"].map((path) => mounts[path]),
                    ["data", "log", "tmp", "plugins"],
                );
                assert.deepStrictEqual(emptyDirs, ["log", "tmp", "plugins"]);
            } else {
                // 4.x's entrypoint writes into /opt/emqx/etc (4.0-4.2) or /opt/emqx (4.3-4.4).
                assert.strictEqual(emqx.securityContext.readOnlyRootFilesystem, undefined);
                assert.deepStrictEqual(emptyDirs, ["log"]);
            }
        });
    }

    it("refuses extra mounts over the read-only root's writable paths on 5.x", async () => {
        await assertRefusedBeforeCreating(
            { containers: { volumes: [{ name: "scratch", emptyDir: {} }], volumeMounts: [{ name: "scratch", mountPath: "/tmp/scratch" }] } },
            "containers.volumeMounts[0]",
            /overlaps the component's tmp volume at \/tmp/,
        );
        await assertRefusedBeforeCreating({ containers: { volumes: [{ name: "plugins", emptyDir: {} }] } }, "containers.volumes[0]", /"plugins" is the component's/);
    });

    it("sets seccomp RuntimeDefault and a non-root uid for the pod, so containers added later inherit them", async () => {
        const pod = statefulSetOf(await deploy({})).spec.template.spec;
        assert.deepStrictEqual(pod.securityContext.seccompProfile, { type: "RuntimeDefault" });
        assert.strictEqual(pod.securityContext.runAsNonRoot, true);
        assert.strictEqual(pod.securityContext.runAsUser, 1000);
    });
});

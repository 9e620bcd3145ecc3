/** `containers`: extra env, volumes and mounts, init containers and sidecars, and what they may not replace. */
import * as assert from "assert";
import * as pulumi from "@pulumi/pulumi";
import { EmqxClusterArgs } from "../components";
import { containerOf, deploy, problemsOf, statefulSetOf } from "./deploy";

const SYSCTL = { name: "sysctl", image: "busybox:1.36", command: ["sysctl", "-w", "net.core.somaxconn=32768"], securityContext: { privileged: true } };
const SHIPPER = { name: "log-shipper", image: "fluent/fluent-bit:3.1", volumeMounts: [{ name: "log", mountPath: "/var/log/emqx", readOnly: true }] };

describe("containers: what runs next to EMQX", () => {
    it("adds env (values and secretKeyRefs) and mounts to the EMQX container after its own, volumes, init containers and sidecars to the pod", async () => {
        const d = await deploy({
            containers: {
                env: [
                    { name: "EMQX_MQTT__MAX_PACKET_SIZE", value: "2MB" },
                    { name: "EMQX_AUTHENTICATION__1__PASSWORD", valueFrom: { secretKeyRef: { name: "auth", key: "password" } } },
                ],
                volumes: [{ name: "certs", secret: { secretName: "emqx-tls" } }],
                volumeMounts: [{ name: "certs", mountPath: "/opt/emqx/etc/certs/custom", readOnly: true }],
                initContainers: [SYSCTL],
                sidecars: [SHIPPER],
            },
        });
        const emqx = containerOf(d);
        const names = emqx.env.map((e: any) => e.name);
        assert.deepStrictEqual(names.slice(-2), ["EMQX_MQTT__MAX_PACKET_SIZE", "EMQX_AUTHENTICATION__1__PASSWORD"]);
        assert.ok(names.indexOf("EMQX_HOST") < names.indexOf("EMQX_MQTT__MAX_PACKET_SIZE"));
        assert.deepStrictEqual(emqx.env.at(-1).valueFrom, { secretKeyRef: { name: "auth", key: "password" } });
        assert.deepStrictEqual(emqx.volumeMounts.at(-1), { name: "certs", mountPath: "/opt/emqx/etc/certs/custom", readOnly: true });
        assert.ok(emqx.volumeMounts.some((m: any) => m.mountPath === "/opt/emqx/data"), "the data mount is kept");
        const pod = statefulSetOf(d).spec.template.spec;
        assert.deepStrictEqual(pod.containers.map((c: any) => c.name), ["emqx", "log-shipper"]);
        assert.deepStrictEqual(pod.containers[1], SHIPPER);
        assert.deepStrictEqual(pod.initContainers, [SYSCTL]);
        assert.deepStrictEqual(pod.volumes.at(-1), { name: "certs", secret: { secretName: "emqx-tls" } });
        assert.ok(pod.volumes.some((v: any) => v.name === "log"));
    });

    it("adds nothing by default", async () => {
        const pod = statefulSetOf(await deploy({})).spec.template.spec;
        assert.deepStrictEqual(pod.containers.map((c: any) => c.name), ["emqx"]);
        assert.ok(!("initContainers" in pod));
        // tmp and plugins: the emptyDirs 5.x's read-only root filesystem needs; mqtt-users: the generated MQTT user's
        // file, which EMQX imports (client authentication is on by default).
        assert.deepStrictEqual(pod.volumes.map((v: any) => v.name), ["log", "tmp", "plugins", "mqtt-users"]);
    });

    it("takes an env value from an Output", async () => {
        const emqx = containerOf(await deploy({ containers: { env: [{ name: "TZ", value: pulumi.output("UTC") }] } }));
        assert.deepStrictEqual(emqx.env.at(-1), { name: "TZ", value: "UTC" });
    });
});

const REFUSED: [string, EmqxClusterArgs, RegExp][] = [
    ["a variable the component sets", { containers: { env: [{ name: "EMQX_HOST", value: "x" }] } }, /^containers\.env\[0\]: EMQX_HOST is set by the component/],
    ["the cookie variable", { containers: { env: [{ name: "EMQX_NODE__COOKIE", value: "x" }] } }, /^containers\.env\[0\]: EMQX_NODE__COOKIE is set by the component/],
    ["a discovery setting through env", { containers: { env: [{ name: "EMQX_CLUSTER__DNS__RECORD_TYPE", value: "a" }] } }, /^containers\.env\[0\]: EMQX_CLUSTER__DNS__RECORD_TYPE is set by the component/],
    ["an owned setting the component does not set", { containers: { env: [{ name: "EMQX_NODE__DATA_DIR", value: "/tmp" }] } }, /^containers\.env\[0\]: EMQX_NODE__DATA_DIR sets node\.data_dir, which the component manages: the data volume/],
    ["a variable without value or source", { containers: { env: [{ value: "x" } as never] } }, /^containers\.env\[0\]: must have required property name$/],
    ["the data volume's name", { containers: { volumes: [{ name: "data", emptyDir: {} }] } }, /^containers\.volumes\[0\]: the volume name "data" is the component's \(mounted at \/opt\/emqx\/data\)/],
    ["a mount on the data path", { containers: { volumes: [{ name: "x", emptyDir: {} }], volumeMounts: [{ name: "x", mountPath: "/opt/emqx/data" }] } }, /^containers\.volumeMounts\[0\]: \/opt\/emqx\/data overlaps the component's data volume/],
    ["a mount under the data path", { containers: { volumes: [{ name: "x", emptyDir: {} }], volumeMounts: [{ name: "x", mountPath: "/opt/emqx/data/mnesia" }] } }, /overlaps the component's data volume/],
    ["a mount above the data path", { containers: { volumes: [{ name: "x", emptyDir: {} }], volumeMounts: [{ name: "x", mountPath: "/opt/emqx" }] } }, /^containers\.volumeMounts\[0\]: \/opt\/emqx overlaps the component's data volume/],
    ["a mount of the log volume in the EMQX container", { containers: { volumeMounts: [{ name: "log", mountPath: "/logs" }] } }, /^containers\.volumeMounts\[0\]: the volume "log" is already mounted in the EMQX container at \/opt\/emqx\/log/],
    ["a mount of a volume that does not exist", { containers: { volumeMounts: [{ name: "nope", mountPath: "/x" }] } }, /^containers\.volumeMounts\[0\]: no volume "nope"; add it to containers\.volumes$/],
    ["a sidecar mount of a volume that does not exist", { containers: { sidecars: [{ name: "s", image: "busybox", volumeMounts: [{ name: "nope", mountPath: "/x" }] }] } }, /^containers\.sidecars\[0\]\.volumeMounts\[0\]: no volume "nope"/],
    ["a sidecar named emqx", { containers: { sidecars: [{ name: "emqx", image: "busybox" }] } }, /^containers\.sidecars\[0\]\.name: "emqx" is the EMQX container's name; use another$/],
    ["an init container named emqx", { containers: { initContainers: [{ name: "emqx", image: "busybox" }] } }, /^containers\.initContainers\[0\]\.name: "emqx" is the EMQX container's name/],
    ["two containers with one name", { containers: { initContainers: [{ name: "a", image: "busybox" }], sidecars: [{ name: "a", image: "busybox" }] } }, /^containers\.sidecars\[0\]\.name: "a" is already the name of containers\.initContainers\[0\]/],
    ["two volumes with one name", { containers: { volumes: [{ name: "v", emptyDir: {} }, { name: "v", emptyDir: {} }] } }, /^containers\.volumes\[1\]: "v" is already the name of containers\.volumes\[0\]$/],
    ["a sidecar without image", { containers: { sidecars: [{ name: "s" } as never] } }, /^containers\.sidecars\[0\]\.image: required; give the container's image/],
    ["a sidecar port that is no number", { containers: { sidecars: [{ name: "s", image: "b", ports: [{ containerPort: "80" as never }] }] } }, /^containers\.sidecars\[0\]\.ports\[0\]\.containerPort: must be integer$/],
    ["a volume with a bad source", { containers: { volumes: [{ name: "v", secret: { defaultMode: "0400" as never } }] } }, /^containers\.volumes\[0\]\.secret\.defaultMode: must be integer$/],
];

describe("containers values that would replace what the component owns are refused before any object is created", () => {
    for (const [title, args, message] of REFUSED) {
        it(`refuses ${title}`, async () => {
            const problems = await problemsOf(args);
            assert.ok(problems.some((p) => message.test(p)), `no problem matches ${message}: ${JSON.stringify(problems)}`);
        });
    }

    it("refuses an owned variable given inside an Output once it is known", async () => {
        const problems = await problemsOf({ containers: pulumi.output({ env: [{ name: "POD_NAME", value: "x" }] }) });
        assert.ok(problems.some((p) => p.startsWith("containers.env[0]: POD_NAME is set by the component")), JSON.stringify(problems));
    });
});

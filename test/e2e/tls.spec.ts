/**
 * TLS on the real API server: the program's Certificate (tls.certificate) is accepted against cert-manager's CRD
 * schema, and an existing kubernetes.io/tls Secret (made with openssl) is mounted read-only where every TLS listener
 * setting points. No cert-manager controller runs and the pods run no container (KWOK): what is proven is what the
 * API server and the StatefulSet controller hold, not a TLS handshake.
 */
import * as assert from "assert";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { Stack } from "@pulumi/pulumi/automation";
import { E2eCluster, installCertManagerCrds, skipWithoutToolchain, startCluster } from "./cluster";
import { kubectlJson, openProgramStack, removeUnlessKept, waitReady } from "./stacks";

const NAMESPACE = "default";
const SMALL = { replicas: 1, discovery: "manual", persistence: false };

/** A CA and a server certificate it signs for `dnsName`, as PEM files in `dir`. */
function makeCertificates(dir: string, dnsName: string): { ca: string; cert: string; key: string } {
    const file = (name: string) => path.join(dir, name);
    const openssl = (...args: string[]) => execFileSync("openssl", args, { stdio: ["ignore", "pipe", "pipe"] });
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=e2e CA", "-keyout", file("ca.key"), "-out", file("ca.crt"));
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", `/CN=${dnsName}`, "-keyout", file("tls.key"), "-out", file("tls.csr"));
    fs.writeFileSync(file("ext.cnf"), `subjectAltName=DNS:${dnsName}\n`);
    openssl("x509", "-req", "-in", file("tls.csr"), "-CA", file("ca.crt"), "-CAkey", file("ca.key"), "-CAcreateserial", "-days", "2", "-extfile", file("ext.cnf"), "-out", file("tls.crt"));
    return { ca: file("ca.crt"), cert: file("tls.crt"), key: file("tls.key") };
}

function applyJson(cluster: E2eCluster, object: unknown, dryRun = false): string {
    return execFileSync(path.join(cluster.binDir, "kubectl"), ["apply", ...(dryRun ? ["--dry-run=server"] : []), "-f", "-"], {
        env: { ...process.env, KUBECONFIG: cluster.kubeconfig },
        input: JSON.stringify(object),
        encoding: "utf8",
        stdio: ["pipe", "pipe", "pipe"],
    });
}

describe("TLS: the API server takes the Certificate and the pods mount the Secret", function () {
    let cluster: E2eCluster | undefined;
    let dir: string | undefined;
    let stack: Stack | undefined;

    before(function () {
        skipWithoutToolchain(this);
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "emqx-e2e-tls-"));
        cluster = startCluster(path.join(dir, "cluster"));
        installCertManagerCrds(cluster);
    });

    after(async () => {
        await stack?.destroy().catch((err) => console.log(`    destroy failed: ${err.message}`));
        cluster?.down();
        removeUnlessKept(dir);
    });

    it("creates the cert-manager Certificate through the real provider, and the CRD's schema is enforced", async () => {
        const live = cluster as E2eCluster;
        stack = await openProgramStack(live, path.join(dir as string, "backend"), "tls", {
            ...SMALL,
            externalHost: "mqtt.e2e.example",
            tlsIssuer: "e2e-ca",
            tlsIssuerKind: "ClusterIssuer",
        });
        await stack.up();
        const certificate = kubectlJson(live, "-n", NAMESPACE, "get", "certificate", "emqx-tls");
        assert.deepStrictEqual(certificate.spec.issuerRef, { name: "e2e-ca", kind: "ClusterIssuer", group: "cert-manager.io" });
        assert.strictEqual(certificate.spec.secretName, "emqx-tls");
        for (const name of ["emqx", "emqx.default", "emqx.default.svc", "emqx.default.svc.cluster.local", "mqtt.e2e.example"]) {
            assert.ok(certificate.spec.dnsNames.includes(name), `${name} missing from ${certificate.spec.dnsNames}`);
        }
        const [pod] = await waitReady(live, NAMESPACE, "emqx", 1);
        assert.deepStrictEqual(pod.spec.volumes.find((v: any) => v.name === "server-tls").secret.secretName, "emqx-tls");
        // The same object without an issuer is refused by the CRD's schema: the API server really validated it.
        const broken = { ...certificate, metadata: { name: "broken", namespace: NAMESPACE }, spec: { secretName: "broken" } };
        delete broken.status;
        assert.throws(() => applyJson(live, broken, true), (err: any) => /issuerRef: Required value/.test(err.stderr));
    });

    it("mounts an existing kubernetes.io/tls Secret read-only where every TLS listener setting points", async () => {
        const live = cluster as E2eCluster;
        const files = makeCertificates(dir as string, "emqx.default.svc.cluster.local");
        const base64 = (file: string) => fs.readFileSync(file).toString("base64");
        const secret = {
            apiVersion: "v1",
            kind: "Secret",
            metadata: { name: "e2e-tls", namespace: NAMESPACE },
            type: "kubernetes.io/tls",
            data: { "tls.crt": base64(files.cert), "tls.key": base64(files.key), "ca.crt": base64(files.ca) },
        };
        applyJson(live, secret);
        // The API server holds the type to its keys.
        assert.throws(() => applyJson(live, { ...secret, metadata: { name: "no-key", namespace: NAMESPACE }, data: { "tls.crt": secret.data["tls.crt"] } }, true), /tls\.key/);

        const target = stack as Stack;
        await target.setConfig("tlsIssuer", { value: "" });
        await target.setConfig("tlsSecretName", { value: "e2e-tls" });
        await target.setConfig("tlsCaFromSecret", { value: "true" });
        await target.up();
        assert.throws(() => live.kubectl("-n", NAMESPACE, "get", "certificate", "emqx-tls"), /NotFound/, "the Certificate is gone");

        const [pod] = await waitReady(live, NAMESPACE, "emqx", 1);
        const volume = pod.spec.volumes.find((v: any) => v.secret?.secretName === "e2e-tls");
        assert.ok(volume, "no volume of the Secret");
        const container = pod.spec.containers.find((c: any) => c.name === "emqx");
        const mount = container.volumeMounts.find((m: any) => m.name === volume.name);
        assert.strictEqual(mount.readOnly, true);
        assert.strictEqual(mount.subPath, undefined, "a subPath mount never sees a renewed Secret");

        const configMapName = container.envFrom.find((e: any) => e.configMapRef).configMapRef.name;
        const settings: Record<string, string> = kubectlJson(live, "-n", NAMESPACE, "get", "configmap", configMapName).data;
        const liveKeys = Object.keys(kubectlJson(live, "-n", NAMESPACE, "get", "secret", "e2e-tls").data);
        const fileSettings = Object.entries(settings).filter(([name]) => /(CERTFILE|KEYFILE)$/.test(name));
        assert.strictEqual(fileSettings.length, 6, `mqtts and wss each take certfile, keyfile, cacertfile: ${fileSettings.map(([n]) => n)}`);
        for (const [name, value] of fileSettings) {
            const file = JSON.parse(value) as string;
            assert.strictEqual(path.dirname(file), mount.mountPath, `${name} = ${file}`);
            assert.ok(liveKeys.includes(path.basename(file)), `${name} = ${file}: no such key in the Secret (${liveKeys})`);
        }
        assert.strictEqual(JSON.parse(settings.EMQX_LISTENERS__SSL__DEFAULT__SSL_OPTIONS__CACERTFILE), `${mount.mountPath}/ca.crt`);
    });
});

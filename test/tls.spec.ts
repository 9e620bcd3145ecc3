import * as assert from "assert";
import * as pulumi from "@pulumi/pulumi";
import { EmqxClusterArgs } from "../components";
import { TYPES, ofType, valueOf } from "./harness";
import { assertRefusedBeforeCreating, containerOf, deploy, problemsOf, statefulSetOf } from "./deploy";

const DIR = "/opt/emqx/etc/server-tls";
const CA = "-----BEGIN CERTIFICATE-----\nMIIBdzCCAR2gAwIBAgIUQ\n-----END CERTIFICATE-----\n";

async function settingsOf(args: EmqxClusterArgs) {
    const d = await deploy(args);
    return { d, data: d.spec(TYPES.configMap).data as Record<string, string> };
}

function serviceOf(d: Awaited<ReturnType<typeof deploy>>, name: string): Record<string, any> {
    return ofType(d.resources, TYPES.service).find((s) => s.state.metadata.name === name)!.state;
}

describe("TLS with your certificate (tls)", () => {
    describe("an existing kubernetes.io/tls Secret (tls.secretName)", () => {
        it("mounts the whole Secret read-only, without subPath, so renewed files reach the pods", async () => {
            const d = await deploy({ tls: { secretName: "mqtt-tls" } });
            const pod = statefulSetOf(d).spec.template.spec;
            assert.deepStrictEqual(
                pod.volumes.find((v: any) => v.name === "server-tls"),
                { name: "server-tls", secret: { secretName: "mqtt-tls", defaultMode: 0o440 } },
            );
            assert.deepStrictEqual(
                containerOf(d).volumeMounts.find((m: any) => m.name === "server-tls"),
                { name: "server-tls", mountPath: DIR, readOnly: true },
            );
            assert.deepStrictEqual(ofType(d.resources, TYPES.certificate), [], "no Certificate for a given Secret");
        });

        it("points both TLS listeners at the mounted files, and cacertfile at tls.crt unless the Secret has ca.crt", async () => {
            const { data } = await settingsOf({ tls: { secretName: "mqtt-tls" } });
            for (const listener of ["SSL", "WSS"]) {
                const prefix = `EMQX_LISTENERS__${listener}__DEFAULT__SSL_OPTIONS__`;
                assert.strictEqual(data[`${prefix}CERTFILE`], JSON.stringify(`${DIR}/tls.crt`));
                assert.strictEqual(data[`${prefix}KEYFILE`], JSON.stringify(`${DIR}/tls.key`));
                // Never the image's example CA, whose private key is public.
                assert.strictEqual(data[`${prefix}CACERTFILE`], JSON.stringify(`${DIR}/tls.crt`));
            }
            const withCa = await settingsOf({ tls: { secretName: "mqtt-tls", caFromSecret: true } });
            assert.strictEqual(withCa.data.EMQX_LISTENERS__SSL__DEFAULT__SSL_OPTIONS__CACERTFILE, JSON.stringify(`${DIR}/ca.crt`));
            assert.strictEqual(withCa.data.EMQX_LISTENERS__WSS__DEFAULT__SSL_OPTIONS__CACERTFILE, JSON.stringify(`${DIR}/ca.crt`));
        });

        it("takes the Secret's name as an Output", async () => {
            const d = await deploy({ tls: { secretName: pulumi.output("from-elsewhere") } });
            const volume = statefulSetOf(d).spec.template.spec.volumes.find((v: any) => v.name === "server-tls");
            assert.strictEqual(volume.secret.secretName, "from-elsewhere");
        });
    });

    describe("renewal", () => {
        it("rolls the pods when tls.contentHash changes, through a pod template annotation", async () => {
            const annotations = async (tls: EmqxClusterArgs["tls"]) => statefulSetOf(await deploy({ tls })).spec.template.metadata.annotations;
            const first = await annotations({ secretName: "mqtt-tls", contentHash: pulumi.output("sha256:aaa") });
            const second = await annotations({ secretName: "mqtt-tls", contentHash: "sha256:bbb" });
            assert.strictEqual(first["emqx.pulumi.io/tls-content"], "sha256:aaa");
            assert.strictEqual(second["emqx.pulumi.io/tls-content"], "sha256:bbb");
            // The component's own annotations stay.
            assert.strictEqual(second["prometheus.io/scrape"], "true");
            assert.ok(!("emqx.pulumi.io/tls-content" in (await annotations({ secretName: "mqtt-tls" }))));
        });
    });

    describe("the version-correct listener settings of every family", () => {
        const cases: [string, EmqxClusterArgs, Record<string, string>][] = [
            ["4.0-4.2", { version: "4.2.14", discovery: "static", authentication: { allowAnonymous: true } }, { EMQX_LISTENER__SSL__EXTERNAL__CERTFILE: `${DIR}/tls.crt`, EMQX_LISTENER__WSS__EXTERNAL__KEYFILE: `${DIR}/tls.key`, EMQX_LISTENER__SSL__EXTERNAL__CACERTFILE: `${DIR}/tls.crt` }],
            ["4.3", { version: "4.3.22", discovery: "static" }, { EMQX_LISTENER__SSL__EXTERNAL__KEYFILE: `${DIR}/tls.key`, EMQX_LISTENER__WSS__EXTERNAL__CERTFILE: `${DIR}/tls.crt` }],
            ["4.4", { version: "4.4.19" }, { EMQX_LISTENER__SSL__EXTERNAL__CERTFILE: `${DIR}/tls.crt`, EMQX_LISTENER__WSS__EXTERNAL__CACERTFILE: `${DIR}/tls.crt` }],
            ["5.0-5.3", { version: "5.0.26" }, { EMQX_LISTENERS__SSL__DEFAULT__SSL_OPTIONS__CERTFILE: JSON.stringify(`${DIR}/tls.crt`), EMQX_LISTENERS__WSS__DEFAULT__SSL_OPTIONS__KEYFILE: JSON.stringify(`${DIR}/tls.key`) }],
            ["5.4-5.8", { version: "5.8.9" }, { EMQX_LISTENERS__SSL__DEFAULT__SSL_OPTIONS__KEYFILE: JSON.stringify(`${DIR}/tls.key`), EMQX_LISTENERS__WSS__DEFAULT__SSL_OPTIONS__CERTFILE: JSON.stringify(`${DIR}/tls.crt`) }],
            ["5.9+", { version: "5.10.1", licenseKey: "key" }, { EMQX_LISTENERS__SSL__DEFAULT__SSL_OPTIONS__CERTFILE: JSON.stringify(`${DIR}/tls.crt`), EMQX_LISTENERS__WSS__DEFAULT__SSL_OPTIONS__CACERTFILE: JSON.stringify(`${DIR}/tls.crt`) }],
        ];
        for (const [family, args, expected] of cases) {
            it(`${family}: the MQTT TLS listeners read the mounted files`, async () => {
                const { data } = await settingsOf({ ...args, tls: { secretName: "mqtt-tls" } });
                for (const [name, value] of Object.entries(expected)) {
                    assert.strictEqual(data[name], value, name);
                }
                const tlsKeys = Object.keys(data).filter((k) => /CERTFILE|KEYFILE/.test(k));
                assert.strictEqual(tlsKeys.length, 6, tlsKeys.join(", "));
            });
        }
    });

    describe("the dashboard over HTTPS (tls.dashboard)", () => {
        it("5.4+: turns the HTTPS listener on with ssl_options, and the dashboard Service carries 18084 instead of 18083", async () => {
            const { d, data } = await settingsOf({ tls: { secretName: "mqtt-tls", dashboard: true }, dashboard: { service: { type: "NodePort", nodePort: 31808 } } });
            assert.strictEqual(data.EMQX_DASHBOARD__LISTENERS__HTTPS__ENABLE, "true");
            assert.strictEqual(data.EMQX_DASHBOARD__LISTENERS__HTTPS__BIND, "18084");
            assert.strictEqual(data.EMQX_DASHBOARD__LISTENERS__HTTPS__SSL_OPTIONS__CERTFILE, JSON.stringify(`${DIR}/tls.crt`));
            assert.strictEqual(data.EMQX_DASHBOARD__LISTENERS__HTTPS__SSL_OPTIONS__KEYFILE, JSON.stringify(`${DIR}/tls.key`));
            const ports = serviceOf(d, "emqx-dashboard").spec.ports;
            assert.deepStrictEqual(ports.map((p: any) => [p.name, p.port, p.nodePort]), [["dashboard-tls", 18084, 31808]]);
            // The probes keep the plain port inside the pod.
            assert.ok(containerOf(d).ports.some((p: any) => p.containerPort === 18083));
            assert.ok(containerOf(d).ports.some((p: any) => p.containerPort === 18084));
            assert.strictEqual(await valueOf(d.cluster.dashboardUrl), "https://localhost:31808");
            assert.strictEqual(await valueOf(d.cluster.dashboardNodePort), 31808);
        });

        it("5.0-5.1.0: the HTTPS listener's files sit directly under dashboard.listeners.https", async () => {
            const { data } = await settingsOf({ version: "5.0.26", tls: { secretName: "mqtt-tls", dashboard: true } });
            assert.strictEqual(data.EMQX_DASHBOARD__LISTENERS__HTTPS__CERTFILE, JSON.stringify(`${DIR}/tls.crt`));
            assert.strictEqual(data.EMQX_DASHBOARD__LISTENERS__HTTPS__SSL_OPTIONS__CERTFILE, undefined);
            const later = await settingsOf({ version: "5.1.1", tls: { secretName: "mqtt-tls", dashboard: true } });
            assert.strictEqual(later.data.EMQX_DASHBOARD__LISTENERS__HTTPS__SSL_OPTIONS__CERTFILE, JSON.stringify(`${DIR}/tls.crt`));
        });

        it("4.3 and 4.4: dashboard.listener.https on 18084 with its files; the management API stays on the dashboard Service", async () => {
            const { d, data } = await settingsOf({ version: "4.4.19", tls: { secretName: "mqtt-tls", dashboard: true } });
            assert.strictEqual(data.EMQX_DASHBOARD__LISTENER__HTTPS, "18084");
            assert.strictEqual(data.EMQX_DASHBOARD__LISTENER__HTTPS__CERTFILE, `${DIR}/tls.crt`);
            assert.strictEqual(data.EMQX_DASHBOARD__LISTENER__HTTPS__KEYFILE, `${DIR}/tls.key`);
            assert.deepStrictEqual(serviceOf(d, "emqx-dashboard").spec.ports.map((p: any) => p.port), [18084, 8081]);
            const v43 = await settingsOf({ version: "4.3.22", discovery: "static", tls: { secretName: "mqtt-tls", dashboard: true } });
            assert.strictEqual(v43.data.EMQX_DASHBOARD__LISTENER__HTTPS, "18084");
        });

        it("is refused on 4.0-4.2, with the reason", async () => {
            await assertRefusedBeforeCreating(
                { version: "4.2.14", discovery: "static", tls: { secretName: "mqtt-tls", dashboard: true } },
                "tls.dashboard",
                /entrypoint only rewrites settings.*EMQX 4\.3 or later/,
            );
        });

        it("without it, the dashboard stays plain HTTP on 18083 and no HTTPS setting is made", async () => {
            const { d, data } = await settingsOf({ tls: { secretName: "mqtt-tls" } });
            assert.ok(!Object.keys(data).some((k) => k.startsWith("EMQX_DASHBOARD__LISTENERS__HTTPS")));
            assert.deepStrictEqual(serviceOf(d, "emqx-dashboard").spec.ports.map((p: any) => p.port), [18083]);
            assert.match(await valueOf(d.cluster.dashboardUrl), /^http:\/\//);
        });
    });

    describe("a cert-manager Certificate (tls.certificate)", () => {
        it("asks the issuer for every name clients use, and mounts the Secret cert-manager writes", async () => {
            const d = await deploy({
                namespace: "iot",
                externalHost: "MQTT.example.com",
                tls: { certificate: { issuerRef: { name: "ca-issuer" }, dnsNames: ["broker.example.net"], duration: "2160h", renewBefore: "360h" } },
            });
            const certificate = d.spec(TYPES.certificate);
            assert.strictEqual(certificate.apiVersion, "cert-manager.io/v1");
            assert.strictEqual(certificate.kind, "Certificate");
            assert.deepStrictEqual(certificate.metadata.name, "emqx-tls");
            assert.strictEqual(certificate.metadata.namespace, "iot");
            assert.strictEqual(certificate.spec.secretName, "emqx-tls");
            assert.deepStrictEqual(certificate.spec.issuerRef, { name: "ca-issuer", kind: "Issuer", group: "cert-manager.io" });
            assert.deepStrictEqual(certificate.spec.dnsNames, [
                "emqx",
                "emqx.iot",
                "emqx.iot.svc",
                "emqx.iot.svc.cluster.local",
                "mqtt.example.com",
                "broker.example.net",
            ]);
            assert.strictEqual(certificate.spec.ipAddresses, undefined);
            assert.strictEqual(certificate.spec.duration, "2160h");
            assert.strictEqual(certificate.spec.renewBefore, "360h");
            const volume = statefulSetOf(d).spec.template.spec.volumes.find((v: any) => v.name === "server-tls");
            assert.strictEqual(volume.secret.secretName, "emqx-tls");
            const sts = ofType(d.resources, TYPES.statefulSet)[0];
            const cert = ofType(d.resources, TYPES.certificate)[0];
            assert.ok(sts.dependencies.includes(cert.urn), "the StatefulSet waits for the Certificate");
            assert.ok(cert.order < sts.order);
        });

        it("puts an IP address externalHost in ipAddresses, the dashboard Service's names with tls.dashboard, and takes a ClusterIssuer", async () => {
            const d = await deploy({
                externalHost: "203.0.113.7",
                clusterDomain: "corp.local",
                tls: { dashboard: true, certificate: { issuerRef: { name: "letsencrypt", kind: "ClusterIssuer" } } },
            });
            const { spec } = d.spec(TYPES.certificate);
            assert.deepStrictEqual(spec.ipAddresses, ["203.0.113.7"]);
            assert.deepStrictEqual(spec.issuerRef, { name: "letsencrypt", kind: "ClusterIssuer", group: "cert-manager.io" });
            assert.ok(spec.dnsNames.includes("emqx-dashboard.default.svc.corp.local"));
            assert.ok(spec.dnsNames.includes("emqx.default.svc.corp.local"));
            assert.ok(!spec.dnsNames.includes("203.0.113.7"));
        });

        it("leaves the in-cluster names out for a public-names-only issuer (ACME), and pods then verify externalHost", async () => {
            const d = await deploy({
                externalHost: "mqtt.example.com",
                tls: { certificate: { issuerRef: { name: "letsencrypt", kind: "ClusterIssuer" }, inClusterNames: false, dnsNames: ["mqtt2.example.com"] } },
            });
            assert.deepStrictEqual(d.spec(TYPES.certificate).spec.dnsNames, ["mqtt.example.com", "mqtt2.example.com"]);
            const { tls } = await valueOf(d.cluster.clientConfig);
            assert.strictEqual(tls.internalServerName, "mqtt.example.com");
        });

        it("leaves the default externalHost (localhost) out of the names", async () => {
            const d = await deploy({ tls: { certificate: { issuerRef: { name: "ca" } } } });
            assert.ok(!d.spec(TYPES.certificate).spec.dnsNames.includes("localhost"));
        });

        it("takes the issuer and DNS names as Outputs", async () => {
            const d = await deploy({
                tls: { certificate: { issuerRef: { name: pulumi.output("ca"), group: pulumi.output("example.io"), kind: "External" }, dnsNames: pulumi.output([pulumi.output("a.example.com")]) } },
            });
            const { spec } = d.spec(TYPES.certificate);
            assert.deepStrictEqual(spec.issuerRef, { name: "ca", kind: "External", group: "example.io" });
            assert.ok(spec.dnsNames.includes("a.example.com"));
        });
    });

    describe("clientConfig", () => {
        it("gives the server name to verify, in and out of the cluster, and the CA given", async () => {
            const d = await deploy({ externalHost: "mqtt.example.com", tls: { secretName: "mqtt-tls", caCertificate: CA } });
            const { tls } = await valueOf(d.cluster.clientConfig);
            assert.strictEqual(tls.serverName, "mqtt.example.com");
            assert.strictEqual(tls.internalServerName, "emqx.default.svc.cluster.local");
            assert.strictEqual(tls.caCertificate, CA);
            assert.strictEqual(tls.caSecret, undefined);
            assert.match(tls.note, /Secret mqtt-tls/);
        });

        it("names the Secret and key of the CA with caFromSecret, and the in-cluster name when no externalHost is set", async () => {
            const d = await deploy({ serviceType: "ClusterIP", tls: { certificate: { issuerRef: { name: "ca" } }, caFromSecret: true } });
            const { tls } = await valueOf(d.cluster.clientConfig);
            assert.deepStrictEqual(tls.caSecret, { name: "emqx-tls", key: "ca.crt" });
            assert.strictEqual(tls.caCertificate, undefined);
            assert.strictEqual(tls.serverName, "emqx.default.svc.cluster.local");
            assert.match(tls.note, /cert-manager Certificate emqx-tls \(issuer Issuer ca\)/);
        });

        it("without tls, has no server name and says the example certificate is served", async () => {
            const d = await deploy({ externalHost: "mqtt.example.com" });
            const { tls } = await valueOf(d.cluster.clientConfig);
            assert.strictEqual(tls.serverName, undefined);
            assert.strictEqual(tls.caCertificate, undefined);
            assert.match(tls.note, /example certificate/);
        });
    });

    describe("the example-certificate warning", () => {
        const warned = (warnings: string[]) => warnings.some((w) => /example certificate built into the EMQX image, whose private key is public/.test(w));
        it("warns when mqtts/wss are reachable from outside the cluster without tls", async () => {
            assert.ok(warned((await deploy({ externalHost: "mqtt.example.com" })).warnings), "NodePort");
            assert.ok(warned((await deploy({ serviceType: "LoadBalancer" })).warnings), "LoadBalancer");
        });
        it("does not warn for a ClusterIP Service, with tls, or with certificate files set through emqxConfig", async () => {
            assert.ok(!warned((await deploy({ serviceType: "ClusterIP" })).warnings), "ClusterIP");
            assert.deepStrictEqual((await deploy({ externalHost: "mqtt.example.com", tls: { secretName: "mqtt-tls" } })).warnings, []);
            const own = await deploy({
                externalHost: "mqtt.example.com",
                emqxConfig: { "listeners.ssl.default.ssl_options.certfile": '"/mnt/c.pem"', "listeners.wss.default.ssl_options.certfile": '"/mnt/c.pem"' },
            });
            assert.ok(!warned(own.warnings));
        });
        it("names only the TLS listeners the client Service exposes, and says nothing when it exposes neither", async () => {
            const wssOnly = (await deploy({ externalHost: "mqtt.example.com", service: { listeners: ["mqtt", "wss"] } })).warnings;
            assert.ok(wssOnly.some((w) => /^wss \(8084\) is reachable from outside the cluster/.test(w)), wssOnly.join("\n"));
            assert.ok(!warned((await deploy({ externalHost: "mqtt.example.com", service: { listeners: ["mqtt", "ws"] } })).warnings));
        });
    });

    describe("refusals", () => {
        const refusals: [string, EmqxClusterArgs, string, RegExp][] = [
            ["both sources", { tls: { secretName: "a", certificate: { issuerRef: { name: "ca" } } } }, "tls", /either tls\.secretName .* or tls\.certificate .* not both/],
            ["no source", { tls: {} }, "tls", /give tls\.secretName .* or tls\.certificate/],
            ["a bad Secret name", { tls: { secretName: "Not_A_Name" } }, "tls.secretName", /is not a Secret name/],
            ["no issuer", { tls: { certificate: {} as never } }, "tls.certificate.issuerRef", /required/],
            ["an issuer without a name", { tls: { certificate: { issuerRef: {} as never } } }, "tls.certificate.issuerRef.name", /required/],
            ["a bad issuer name", { tls: { certificate: { issuerRef: { name: "Bad Name" } } } }, "tls.certificate.issuerRef.name", /not an issuer name/],
            ["a bad issuer kind", { tls: { certificate: { issuerRef: { name: "ca", kind: "clusterissuer" } } } }, "tls.certificate.issuerRef.kind", /not a kind such as Issuer/],
            ["a bad issuer group", { tls: { certificate: { issuerRef: { name: "ca", group: "Cert Manager" } } } }, "tls.certificate.issuerRef.group", /not an API group/],
            ["a bad DNS name", { tls: { certificate: { issuerRef: { name: "ca" }, dnsNames: ["ok.example.com", "https://x"] } } }, "tls.certificate.dnsNames[1]", /not a DNS name/],
            ["DNS names that are not a list", { tls: { certificate: { issuerRef: { name: "ca" }, dnsNames: "a.example.com" as never } } }, "tls.certificate.dnsNames", /must be a list/],
            ["a bad duration", { tls: { certificate: { issuerRef: { name: "ca" }, duration: "90 days" } } }, "tls.certificate.duration", /not a duration such as 2160h/],
            ["a bad renewBefore", { tls: { certificate: { issuerRef: { name: "ca" }, renewBefore: "15d" } } }, "tls.certificate.renewBefore", /not a duration/],
            ["no name at all", { tls: { certificate: { issuerRef: { name: "ca" }, inClusterNames: false } } }, "tls.certificate.inClusterNames", /leaves the certificate no name; set externalHost/],
            ["an empty contentHash", { tls: { secretName: "a", contentHash: "" } }, "tls.contentHash", /non-empty string/],
            ["a CA that is not PEM", { tls: { secretName: "a", caCertificate: "not a certificate" } }, "tls.caCertificate", /must be a PEM certificate/],
            ["a dashboard flag that is not a boolean", { tls: { secretName: "a", dashboard: "yes" as never } }, "tls.dashboard", /true or false/],
            ["tls as an Output", { tls: pulumi.output({ secretName: "a" }) as never }, "tls", /must be a plain value, not an Output/],
            ["the certificate as an Output", { tls: { certificate: pulumi.output({ issuerRef: { name: "ca" } }) as never } }, "tls.certificate", /must be a plain value/],
            ["tls that is not an object", { tls: "mqtt-tls" as never }, "tls", /must be an object/],
            ["emqxConfig setting a file tls sets", { tls: { secretName: "a" }, emqxConfig: { "listeners.ssl.default.ssl_options.certfile": '"/x"' } }, 'emqxConfig["listeners.ssl.default.ssl_options.certfile"]', /is set by tls/],
            ["a 4.x emqxConfig setting tls sets", { version: "4.4.19", tls: { secretName: "a", dashboard: true }, emqxConfig: { "dashboard.listener.https.keyfile": "/x" } }, 'emqxConfig["dashboard.listener.https.keyfile"]', /is set by tls/],
            ["a volume named like the TLS volume", { tls: { secretName: "a" }, containers: { volumes: [{ name: "server-tls", emptyDir: {} }] } }, "containers.volumes[0]", /is the component's/],
            ["an env variable tls sets", { tls: { secretName: "a" }, containers: { env: [{ name: "EMQX_LISTENERS__WSS__DEFAULT__SSL_OPTIONS__KEYFILE", value: "/x" }] } }, "containers.env[0]", /is set by the component/],
        ];
        for (const [what, args, field, fix] of refusals) {
            it(`refuses ${what}, before creating anything`, async () => {
                const problems = await problemsOf(args);
                assert.ok(problems.some((p) => p.startsWith(`${field}:`) && fix.test(p)), `${field} ${fix}: ${problems.join(" | ")}`);
            });
        }

        it("checks Output values once known, before creating anything", async () => {
            const problems = await problemsOf({ tls: { secretName: pulumi.output("Bad_Name") } });
            assert.ok(problems.some((p) => /^tls\.secretName: "Bad_Name" is not a Secret name/.test(p)), problems.join(" | "));
            const issuer = await problemsOf({ tls: { certificate: { issuerRef: { name: "ca" }, dnsNames: pulumi.output(["bad name"]) } } });
            assert.ok(issuer.some((p) => p.startsWith("tls.certificate.dnsNames[0]:")), issuer.join(" | "));
        });
    });
});

import * as assert from "assert";
import * as pulumi from "@pulumi/pulumi";
import { EmqxCluster, EmqxClusterArgs } from "../components";
import { MockEngine, RunFailure, TYPES, ofType, valueOf } from "./harness";
import { assertRefusedBeforeCreating, deploy } from "./deploy";

function clientService(d: Awaited<ReturnType<typeof deploy>>): Record<string, any> {
    const service = ofType(d.resources, TYPES.service).find((s) => s.state.metadata.name === "emqx");
    assert.ok(service, "no client Service");
    return service.state;
}

/** Bad `service` options, the field the error must name, and a word of the fix. */
const BAD: { title: string; args: EmqxClusterArgs; field: string; fix: RegExp }[] = [
    { title: "an annotation name with a space", args: { service: { annotations: { "bad key": "x" } } }, field: 'service.annotations["bad key"]', fix: /annotation name/ },
    { title: "a pulumi.com annotation", args: { service: { annotations: { "pulumi.com/skipAwait": "true" } } }, field: 'service.annotations["pulumi.com/skipAwait"]', fix: /pulumi.com\/waitFor/ },
    { title: "source ranges on a NodePort Service", args: { service: { loadBalancerSourceRanges: ["10.0.0.0/8"] } }, field: "service.loadBalancerSourceRanges", fix: /LoadBalancer Service, not NodePort/ },
    { title: "a source range that is no CIDR", args: { serviceType: "LoadBalancer", service: { loadBalancerSourceRanges: ["10.0.0.1"] } }, field: "service.loadBalancerSourceRanges", fix: /not a CIDR/ },
    { title: "an IPv4 prefix above 32", args: { serviceType: "LoadBalancer", service: { loadBalancerSourceRanges: ["10.0.0.0/33"] } }, field: "service.loadBalancerSourceRanges", fix: /not a CIDR/ },
    { title: "a load balancer class on a ClusterIP Service", args: { serviceType: "ClusterIP", service: { loadBalancerClass: "service.k8s.aws/nlb" } }, field: "service.loadBalancerClass", fix: /LoadBalancer Service, not ClusterIP/ },
    { title: "a load balancer class without a prefix", args: { serviceType: "LoadBalancer", service: { loadBalancerClass: "nlb" } }, field: "service.loadBalancerClass", fix: /prefixed name/ },
    { title: "an unknown external traffic policy", args: { service: { externalTrafficPolicy: "Node" as never } }, field: "service.externalTrafficPolicy", fix: /Cluster, Local/ },
    { title: "an external traffic policy on a ClusterIP Service", args: { serviceType: "ClusterIP", service: { externalTrafficPolicy: "Local" } }, field: "service.externalTrafficPolicy", fix: /NodePort or LoadBalancer Service/ },
    { title: "an empty listener list", args: { service: { listeners: [] } }, field: "service.listeners", fix: /at least one of "mqtt", "mqtts", "ws", "wss"/ },
    { title: "a listener list that is no list", args: { service: { listeners: "mqtt" as never } }, field: "service.listeners", fix: /at least one of/ },
    { title: "an unknown listener", args: { service: { listeners: ["mqtt", "quic" as never] } }, field: "service.listeners[1]", fix: /"quic" is not a listener; use "mqtt", "mqtts", "ws", "wss"/ },
    { title: "a listener listed twice", args: { service: { listeners: ["mqtt", "mqtts", "mqtt"] } }, field: "service.listeners[2]", fix: /listed twice/ },
    { title: "a NodePort pinned for a listener left out", args: { nodePorts: { ws: 31083 }, service: { listeners: ["mqtt"] } }, field: "nodePorts.ws", fix: /does not expose ws \(service\.listeners\)/ },
];

describe("client Service options (service)", () => {
    it("sets annotations, source ranges, load balancer class and external traffic policy on the client Service only", async () => {
        const d = await deploy({
            serviceType: "LoadBalancer",
            service: {
                annotations: { "service.beta.kubernetes.io/aws-load-balancer-type": "nlb" },
                loadBalancerSourceRanges: ["203.0.113.0/24", "2001:db8::/32"],
                loadBalancerClass: "service.k8s.aws/nlb",
                externalTrafficPolicy: "Local",
            },
        });
        const client = clientService(d);
        assert.strictEqual(client.metadata.annotations["service.beta.kubernetes.io/aws-load-balancer-type"], "nlb");
        // The component's own readiness annotation stays.
        assert.strictEqual(client.metadata.annotations["pulumi.com/waitFor"], "jsonpath={.status.loadBalancer.ingress}");
        assert.deepStrictEqual(client.spec.loadBalancerSourceRanges, ["203.0.113.0/24", "2001:db8::/32"]);
        assert.strictEqual(client.spec.loadBalancerClass, "service.k8s.aws/nlb");
        assert.strictEqual(client.spec.externalTrafficPolicy, "Local");
        for (const other of ofType(d.resources, TYPES.service).filter((s) => s.state.metadata.name !== "emqx")) {
            assert.strictEqual(other.state.spec.loadBalancerSourceRanges, undefined, other.state.metadata.name);
            assert.strictEqual(other.state.metadata.annotations?.["service.beta.kubernetes.io/aws-load-balancer-type"], undefined);
        }
    });

    it("sets none of them by default", async () => {
        const client = clientService(await deploy({}));
        assert.deepStrictEqual(Object.keys(client.metadata.annotations), ["pulumi.com/skipAwait"]);
        for (const field of ["loadBalancerSourceRanges", "loadBalancerClass", "externalTrafficPolicy"]) {
            assert.strictEqual(client.spec[field], undefined, field);
        }
    });

    it("takes the options as Outputs, e.g. source ranges from another stack", async () => {
        const client = clientService(
            await deploy({ serviceType: "LoadBalancer", service: { loadBalancerSourceRanges: pulumi.output(["198.51.100.0/24"]) } }),
        );
        assert.deepStrictEqual(client.spec.loadBalancerSourceRanges, ["198.51.100.0/24"]);
    });

    it("exposes only the listeners in service.listeners, and the URLs and clientConfig follow", async () => {
        const d = await deploy({ service: { listeners: ["wss", "mqtts"] }, externalHost: "mqtt.example.com" });
        const client = clientService(d);
        // In the order of the listeners, whatever the order given.
        assert.deepStrictEqual(client.spec.ports.map((p: any) => p.name), ["mqtts", "wss"]);
        const config = await valueOf(d.cluster.clientConfig);
        assert.deepStrictEqual(Object.keys(config.listeners), ["mqtts", "wss"]);
        const mqtts = client.spec.ports.find((p: any) => p.name === "mqtts").nodePort;
        assert.strictEqual(await valueOf(d.cluster.mqttUrl), `mqtts://mqtt.example.com:${mqtts}`);
        assert.strictEqual(await valueOf(d.cluster.mqttInternalUrl), "mqtts://emqx.default.svc.cluster.local:8883");
        assert.strictEqual(await valueOf(d.cluster.nodePort), undefined, "no mqtt NodePort");
        // The pods still serve every listener, and the headless Service names them all.
        const headless = ofType(d.resources, TYPES.service).find((s) => s.state.metadata.name === "emqx-headless");
        assert.deepStrictEqual(headless?.state.spec.ports.map((p: any) => p.name).filter((n: string) => /^(mqtts?|wss?)$/.test(n)), ["mqtt", "mqtts", "ws", "wss"]);
    });

    it("exposes all four listeners by default, and takes the list as an Output", async () => {
        assert.deepStrictEqual(clientService(await deploy({})).spec.ports.map((p: any) => p.name), ["mqtt", "mqtts", "ws", "wss"]);
        const d = await deploy({ service: { listeners: pulumi.output(["mqtt" as const]) } });
        assert.deepStrictEqual(clientService(d).spec.ports.map((p: any) => p.name), ["mqtt"]);
    });

    it("refuses an unknown listener given as an Output, once known, before the client Service is created", async () => {
        await assert.rejects(
            new MockEngine().run(() => new EmqxCluster("emqx", { service: { listeners: pulumi.output(["mqtt", "coap" as never]) } })),
            (err: unknown) => {
                assert.ok(err instanceof RunFailure, String(err));
                assert.match(err.message, /service\.listeners\[1\]: "coap" is not a listener/);
                assert.strictEqual(ofType(err.resources, TYPES.service).length, 0, "a Service was registered");
                return true;
            },
        );
    });

    for (const { title, args, field, fix } of BAD) {
        it(`refuses ${title}, naming ${field}, before creating anything`, async () => {
            await assertRefusedBeforeCreating(args, field, fix);
        });
    }

    it("refuses a bad source range given as an Output, once known, before the client Service is created", async () => {
        await assert.rejects(
            new MockEngine().run(
                () => new EmqxCluster("emqx", { serviceType: "LoadBalancer", service: { loadBalancerSourceRanges: pulumi.output(["everywhere"]) } }),
            ),
            (err: unknown) => {
                assert.ok(err instanceof RunFailure, String(err));
                assert.match(err.message, /service\.loadBalancerSourceRanges: "everywhere" is not a CIDR/);
                assert.strictEqual(ofType(err.resources, TYPES.service).length, 0, "a Service was registered");
                return true;
            },
        );
    });
});

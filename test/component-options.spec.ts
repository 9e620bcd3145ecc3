/**
 * Resource options a program passes to EmqxCluster must reach every object it creates, as Pulumi users expect of
 * any component. They do only because every child is created with `parent: this` and is named after the component.
 */
import * as assert from "assert";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { EmqxCluster, EmqxClusterArgs } from "../components";
import { MockEngine, RegisteredResource, TYPES, kubernetesObjects, single, valueOf } from "./harness";

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { allAliases } = require("@pulumi/pulumi/resource");

const K8S_PROVIDER_TYPE = "pulumi:providers:kubernetes";

async function run(
    name: string,
    args: EmqxClusterArgs,
    opts: (provider: k8s.Provider) => pulumi.ComponentResourceOptions,
    engine = new MockEngine(),
) {
    const result = await engine.run(() => {
        const provider = new k8s.Provider("target", { kubeconfig: "/etc/kube/staging.yaml", context: "staging" });
        return new EmqxCluster(name, args, opts(provider));
    });
    await valueOf(result.value.clientConfig);
    const children = result.resources.filter((r) => r.type !== TYPES.component && r.type !== K8S_PROVIDER_TYPE);
    return { ...result, children };
}

/** How a resource refers to the provider it uses: `<provider URN>::<provider ID>`. */
function providerReference(resources: readonly RegisteredResource[]): string {
    const provider = single(resources, K8S_PROVIDER_TYPE);
    return `${provider.urn}::target-id`;
}

describe("component resource options", () => {
    const providerOptions: [string, (p: k8s.Provider) => pulumi.ComponentResourceOptions][] = [
        ["providers: [provider]", (provider) => ({ providers: [provider] })],
        ["providers: { kubernetes: provider }", (provider) => ({ providers: { kubernetes: provider } })],
        ["provider: provider", (provider) => ({ provider })],
    ];
    for (const [label, opts] of providerOptions) {
        it(`gives every Kubernetes object the program's provider with ${label}`, async () => {
            const { resources } = await run("emqx", { discovery: "k8s" }, opts);
            const reference = providerReference(resources);
            const objects = kubernetesObjects(resources);
            assert.ok(objects.length >= 10, `only ${objects.length} Kubernetes objects`);
            for (const object of objects) {
                assert.strictEqual(object.provider, reference, `${object.type} ${object.name}`);
            }
        });
    }

    /** The guard is registered, and the objects wait for it; the Kubernetes provider must be started before. */
    const startsProviderBeforeGuard = (result: Awaited<ReturnType<typeof run>>) => {
        const guard = result.resources.find((r) => r.type.endsWith(":ChangeGuard"));
        assert.ok(guard, "no change guard");
        const starts = result.calls.filter((c) => c.token === "kubernetes:yaml:decode");
        assert.strictEqual(starts.length, 1, "the Kubernetes provider is not started by one YAML decode");
        assert.deepStrictEqual(starts[0].inputs, { text: "" }, "the decode is not of an empty text");
        for (const object of kubernetesObjects(result.resources)) {
            assert.strictEqual(starts[0].provider, object.provider, `the decode does not go to the provider of ${object.type} ${object.name}`);
        }
        assert.ok(starts[0].afterResources <= guard.order, "the provider is started only after the guard is registered");
    };
    for (const [label, opts] of providerOptions) {
        it(`starts the program's provider, given with ${label}, before the change guard`, async () => {
            startsProviderBeforeGuard(await run("emqx", {}, opts));
        });
    }

    it("starts the default provider before the change guard when the program passes none", async () => {
        startsProviderBeforeGuard(await run("emqx", {}, () => ({})));
    });

    it("leaves the default provider to Kubernetes objects when the program passes none", async () => {
        const { resources } = await run("emqx", {}, () => ({}));
        const reference = providerReference(resources);
        for (const object of kubernetesObjects(resources)) {
            assert.notStrictEqual(object.provider, reference, `${object.type} ${object.name}`);
        }
    });

    it("protects every child of a protected cluster, and none of an unprotected one", async () => {
        const protectedRun = await run("emqx", {}, () => ({ protect: true }));
        for (const child of protectedRun.children) {
            assert.strictEqual(child.protect, true, `${child.type} ${child.name} is not protected`);
        }
        const unprotectedRun = await run("emqx", {}, () => ({}));
        assert.ok(unprotectedRun.children.every((child) => !child.protect));
    });

    describe("renaming the component with an alias and clusterName", () => {
        async function renamed() {
            const engine = new MockEngine();
            const before = await run("emqx", {}, () => ({}), engine);
            const after = await run("renamed", { clusterName: "emqx" }, () => ({ aliases: [{ name: "emqx" }] }), engine);
            return { before, after };
        }

        it("keeps the name of every Kubernetes object that clusterName pins", async () => {
            const { before, after } = await renamed();
            // The settings ConfigMap and the Secret are auto-named from the logical name; they keep their generated
            // names through their aliases (the next test), which this mock engine does not follow.
            const autoNamed = (r: typeof before) => kubernetesObjects(r.resources).filter((o) => o.inputs.metadata.name === undefined);
            assert.deepStrictEqual(autoNamed(after).map((o) => o.type).sort(), [TYPES.configMap, TYPES.secret]);
            const names = (r: typeof before) =>
                kubernetesObjects(r.resources)
                    .filter((o) => !autoNamed(r).includes(o))
                    .map((o) => `${o.type} ${o.state.metadata.namespace}/${o.state.metadata.name}`)
                    .sort();
            assert.strictEqual(names(after).length, kubernetesObjects(after.resources).length - 2);
            assert.deepStrictEqual(names(after), names(before));
            assert.deepStrictEqual(await valueOf(after.value.nodeNames), await valueOf(before.value.nodeNames));
        });

        it("sends the alias with the component, from which every child's old URN follows", async () => {
            const { before, after } = await renamed();
            const component = single(after.resources, TYPES.component);
            assert.deepStrictEqual(
                component.aliases.map((alias: any) => alias.getSpec()?.getName()),
                ["emqx"],
            );
            // The SDK sends aliases as specs, and the engine derives each child's alias from its parent's (the same
            // rule as the SDK's allAliases): a child named `<component name>-...` keeps its URN under the old name.
            const oldUrns = new Set(before.children.map((c) => c.urn));
            assert.strictEqual(after.children.length, before.children.length);
            for (const child of after.children) {
                const aliases: string[] = await Promise.all(
                    allAliases([], child.name, child.type, after.value, "renamed").map((a: pulumi.Input<string>) => valueOf(a)),
                );
                assert.ok(
                    aliases.some((alias) => oldUrns.has(alias)),
                    `${child.type} ${child.name} would be replaced: none of ${aliases.join(", ")} existed before`,
                );
            }
        });
    });

    it("runs transforms on every child, e.g. a pod spec field no arg carries (dnsConfig, as docs/consuming.md shows)", async () => {
        const seen: string[] = [];
        const dnsConfig = { options: [{ name: "ndots", value: "2" }] };
        const addDnsConfig: pulumi.ResourceTransform = (args) => {
            seen.push(`${args.type} ${args.name}`);
            if (args.type !== TYPES.statefulSet) {
                return undefined;
            }
            const podSpec = args.props.spec.template.spec;
            return {
                props: {
                    ...args.props,
                    spec: {
                        ...args.props.spec,
                        template: {
                            ...args.props.spec.template,
                            spec: { ...podSpec, dnsConfig },
                        },
                    },
                },
                opts: args.opts,
            };
        };
        const { resources, children } = await run("emqx", {}, () => ({ transforms: [addDnsConfig] }));
        // The component's transforms run on the component itself and on everything under it.
        const expected = [`${TYPES.component} emqx`, ...children.map((c) => `${c.type} ${c.name}`)];
        assert.deepStrictEqual(seen.sort(), expected.sort());
        const statefulSet = single(resources, TYPES.statefulSet);
        assert.deepStrictEqual(statefulSet.inputs.spec.template.spec.dnsConfig, dnsConfig);
        // The rest of the pod spec is what the component built.
        assert.strictEqual(statefulSet.inputs.spec.template.spec.containers[0].name, "emqx");
    });
});

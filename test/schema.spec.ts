/**
 * The schema YAML, Python and other languages see: inferred from the TypeScript source by the SDK's component
 * provider, the same code `pulumi package get-schema` and `pulumi package add` run through PulumiPlugin.yaml.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import * as ts from "typescript";
import * as YAML from "yaml";
import { ComponentProvider, getPulumiComponents } from "@pulumi/pulumi/provider/experimental";
import * as components from "../components";
import { ClientListener, DiscoveryMode, ExternalTrafficPolicy, MonitorKind, ServiceType, VolumeRetention } from "../components";

const ROOT = path.resolve(__dirname, "..");
const PACKAGE = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8"));

/** Provider name and namespace as the nodejs plugin host derives them from package.json (`@namespace/name`). */
function pluginIdentity(): { name: string; namespace?: string } {
    const [, scope, rest] = /^(?:@([^/]+)\/)?(.+)$/.exec(PACKAGE.name)!;
    return { name: rest.replace(/[^-a-zA-Z0-9_]/g, "-"), namespace: scope };
}

interface Declared {
    readonly name: string;
    readonly documented: boolean;
}

function sourceOf(file: string): ts.SourceFile {
    return ts.createSourceFile(file, fs.readFileSync(path.join(ROOT, file), "utf8"), ts.ScriptTarget.Latest, true);
}

function isDocumented(node: ts.Node): boolean {
    return ts.getJSDocCommentsAndTags(node).some((doc) => ts.isJSDoc(doc) && Boolean(doc.comment));
}

/** The members of an interface as written in the source: what a reader of args.ts sees. */
function interfaceMembers(file: string, name: string): Declared[] {
    const declaration = sourceOf(file).statements.find(
        (s): s is ts.InterfaceDeclaration => ts.isInterfaceDeclaration(s) && s.name.text === name,
    );
    assert.ok(declaration, `interface ${name} not found in ${file}`);
    return declaration.members.filter(ts.isPropertySignature).map((m) => ({
        name: m.name.getText(),
        documented: isDocumented(m),
    }));
}

/** The public fields of a class as written in the source: the outputs a TypeScript user sees. */
function publicFields(file: string, name: string): Declared[] {
    const declaration = sourceOf(file).statements.find(
        (s): s is ts.ClassDeclaration => ts.isClassDeclaration(s) && s.name?.text === name,
    );
    assert.ok(declaration, `class ${name} not found in ${file}`);
    const hidden = [ts.SyntaxKind.PrivateKeyword, ts.SyntaxKind.ProtectedKeyword, ts.SyntaxKind.StaticKeyword];
    return declaration.members
        .filter(ts.isPropertyDeclaration)
        .filter((m) => !m.modifiers?.some((modifier) => hidden.includes(modifier.kind)))
        .map((m) => ({ name: m.name.getText(), documented: isDocumented(m) }));
}

describe("schema for other languages (inferred by the SDK's component provider)", function () {
    // Type-checks the package once to infer the schema, with the Kubernetes types the args take: seconds on an idle
    // machine, a minute or more on a loaded one.
    this.timeout(240_000);

    const identity = pluginIdentity();
    const token = (type: string) => `${identity.name}:index:${type}`;
    let schema: any;

    before(async () => {
        const provider = new ComponentProvider({
            components: getPulumiComponents(components),
            dirname: ROOT,
            name: identity.name,
            namespace: identity.namespace,
        });
        schema = JSON.parse(await provider.getSchema());
    });

    it("offers exactly one component, EmqxCluster, under the package's provider name", () => {
        assert.deepStrictEqual(getPulumiComponents(components).map((c) => c.name), ["EmqxCluster"]);
        assert.strictEqual(schema.name, identity.name);
        assert.strictEqual(schema.namespace, identity.namespace);
        assert.strictEqual(schema.version, PACKAGE.version);
        assert.deepStrictEqual(Object.keys(schema.resources), [token("EmqxCluster")]);
        assert.strictEqual(schema.resources[token("EmqxCluster")].isComponent, true);
        assert.match(schema.resources[token("EmqxCluster")].description, /clustered EMQX MQTT broker/);
    });

    it("has every arg of EmqxClusterArgs as an input, documented, and none required", () => {
        const declared = interfaceMembers("components/args.ts", "EmqxClusterArgs");
        const resource = schema.resources[token("EmqxCluster")];
        assert.deepStrictEqual(Object.keys(resource.inputProperties).sort(), declared.map((d) => d.name).sort());
        for (const { name, documented } of declared) {
            assert.ok(documented, `EmqxClusterArgs.${name} has no doc comment`);
            assert.ok(resource.inputProperties[name].description, `input ${name} has no description in the schema`);
        }
        assert.deepStrictEqual(resource.requiredInputs ?? [], []);
    });

    it("has every public output of EmqxCluster, documented", () => {
        const declared = publicFields("components/emqx-cluster.ts", "EmqxCluster");
        assert.ok(declared.some((d) => d.name === "clientConfig"));
        const resource = schema.resources[token("EmqxCluster")];
        assert.deepStrictEqual(Object.keys(resource.properties).sort(), declared.map((d) => d.name).sort());
        for (const { name, documented } of declared) {
            assert.ok(documented, `EmqxCluster.${name} has no doc comment`);
            assert.ok(resource.properties[name].description, `output ${name} has no description in the schema`);
        }
        assert.deepStrictEqual(resource.properties.clientConfig.$ref, `#/types/${token("ClientConfig")}`);
    });

    const enums: [string, Record<string, string>][] = [
        ["DiscoveryMode", DiscoveryMode],
        ["ServiceType", ServiceType],
        ["VolumeRetention", VolumeRetention],
        ["ExternalTrafficPolicy", ExternalTrafficPolicy],
        ["MonitorKind", MonitorKind],
        ["ClientListener", ClientListener],
    ];
    for (const [name, values] of enums) {
        it(`has the enum ${name} with every value, each documented`, () => {
            const type = schema.types[token(name)];
            assert.ok(type, `no type ${name}`);
            assert.strictEqual(type.type, "string");
            assert.deepStrictEqual(
                type.enum.map((e: any) => [e.name, e.value]),
                Object.entries(values),
            );
            for (const member of type.enum) {
                assert.ok(member.description, `${name}.${member.name} has no description`);
            }
        });
    }

    it("documents every field of the object types the inputs and outputs use", () => {
        const objects = Object.entries(schema.types).filter(([, t]: [string, any]) => t.type === "object");
        // Kubernetes' own types (tolerations, affinity, env, volumes, ...) come in from @pulumi/kubernetes with their docs.
        const kubernetesTypes = new Set(
            [...fs.readFileSync(path.join(ROOT, "node_modules/@pulumi/kubernetes/types/input.d.ts"), "utf8").matchAll(/^\s+interface (\w+) \{/gm)].map((m) => m[1]),
        );
        const names = objects.map(([name]) => name.split(":")[2]);
        assert.deepStrictEqual(
            names.filter((name) => !kubernetesTypes.has(name) || name.endsWith("Args")).sort(),
            [
                "AuthenticationArgs",
                "AuthorizationArgs",
                "AuthorizationRulesArgs",
                "ClientAuthConfig",
                "ClientConfig",
                "ClientServiceArgs",
                "ClientTlsConfig",
                "ContainersArgs",
                "DashboardArgs",
                "DashboardServiceArgs",
                "DisruptionBudgetArgs",
                "EtcdArgs",
                "ExtraContainerArgs",
                "IngressArgs",
                "IngressRouteArgs",
                "MetricsBasicAuthArgs",
                "MonitoringArgs",
                "MqttEndpoint",
                "MqttListenerConfig",
                "MqttListeners",
                "MqttUsersArgs",
                "NetworkPolicyArgs",
                "NetworkPolicyEgressRuleArgs",
                "NetworkPolicyPortArgs",
                "NodePortsArgs",
                "PlacementArgs",
                "PodArgs",
                "ProbeTimingArgs",
                "ProbesArgs",
                "ResourcesArgs",
                "SecretKeyRef",
                "SecretKeyReference",
                "TlsArgs",
                "TlsCertificateArgs",
                "TlsIssuerRefArgs",
            ],
        );
        for (const used of ["Toleration", "Affinity", "TopologySpreadConstraint", "EnvVar", "SecretKeySelector", "Volume", "VolumeMount", "NetworkPolicyPeer"]) {
            assert.ok(names.includes(used), `${used} is not in the schema`);
        }
        // The SDK's schema generation keeps the descriptions of fields and enum values, not of the types themselves.
        for (const [name, type] of objects as [string, any][]) {
            for (const [field, property] of Object.entries(type.properties) as [string, any][]) {
                assert.ok(property.description, `${name}.${field} has no description`);
            }
        }
    });

    it("takes outputs of other resources for what flows into specs, plain values for what decides the objects", () => {
        const inputs = schema.resources[token("EmqxCluster")].inputProperties;
        // Plain values decide which objects exist and are validated up front; these may come from other resources.
        for (const name of ["namespace", "storageClass", "storageSize", "externalHost", "licenseKey", "dashboard", "resources", "emqxConfig", "etcd", "placement", "pod"]) {
            assert.notStrictEqual(inputs[name].plain, true, `${name} should accept an Output`);
        }
        for (const name of ["replicas", "version", "discovery", "clusterName", "persistence", "volumeGeneration", "serviceType"]) {
            assert.strictEqual(inputs[name].plain, true, `${name} should be a plain value`);
        }
    });

    it("takes monitoring and ingress as plain objects (they decide which objects exist) whose values may be outputs", () => {
        const inputs = schema.resources[token("EmqxCluster")].inputProperties;
        const monitoring = schema.types[token("MonitoringArgs")].properties;
        const route = schema.types[token("IngressRouteArgs")].properties;
        assert.strictEqual(inputs.monitoring.plain, true);
        assert.strictEqual(inputs.ingress.plain, true);
        assert.strictEqual(monitoring.kind.plain, true);
        assert.strictEqual(monitoring.kind.$ref, `#/types/${token("MonitorKind")}`);
        for (const name of ["labels", "interval", "scrapeTimeout", "basicAuth"]) {
            assert.notStrictEqual(monitoring[name].plain, true, `monitoring.${name} should accept an Output`);
        }
        for (const name of ["host", "path", "ingressClassName", "annotations", "tlsSecretName"]) {
            assert.notStrictEqual(route[name].plain, true, `ingress route ${name} should accept an Output`);
        }
        assert.deepStrictEqual(Object.keys(schema.types[token("IngressArgs")].properties).sort(), ["dashboard", "ws"]);
    });

    it("names the component with the type token it registers, so other languages construct the same resource", () => {
        const source = fs.readFileSync(path.join(ROOT, "components/emqx-cluster.ts"), "utf8");
        const registered = /super\("([^"]+)"/.exec(source)?.[1];
        assert.strictEqual(token("EmqxCluster"), registered);
    });

    it("matches examples/consumer-yaml: its package name, type token, inputs and the outputs it reads", () => {
        const program = YAML.parse(fs.readFileSync(path.join(ROOT, "examples/consumer-yaml/Pulumi.yaml"), "utf8"));
        assert.ok(identity.name in program.packages, `packages: has no ${identity.name}`);
        const resource = schema.resources[program.resources.broker.type];
        assert.ok(resource, `${program.resources.broker.type} is not in the schema`);
        for (const input of Object.keys(program.resources.broker.properties)) {
            assert.ok(resource.inputProperties[input], `input ${input} is not in the schema`);
        }
        const read = Object.values(program.outputs).map((o) => /^\$\{broker\.(\w+)\}$/.exec(String(o))?.[1]);
        assert.ok(read.length > 0);
        for (const output of read) {
            assert.ok(output && resource.properties[output], `output ${output} is not in the schema`);
        }
    });
});

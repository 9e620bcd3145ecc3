/**
 * The Erlang cookie and the dashboard password: generated in the program, kept by a Secret that is never replaced
 * nor updated, and read back from it.
 */
import * as assert from "assert";
import { EmqxClusterArgs } from "../components";
import { GENERATED_SECRET_ALPHABET, generateSecretValue } from "../components/generated-secret";
import { MockEngine, RegisteredResource, TYPES, isSecret, ofType, valueOf } from "./harness";
import { Deployment, deploy, statefulSetOf } from "./deploy";
import { podEnvironment } from "./pod";

function credentialsOf(d: Deployment): RegisteredResource {
    const found = ofType(d.resources, TYPES.secret).find((r) => r.name === "emqx-credentials");
    assert.ok(found, "no credentials Secret");
    return found;
}

describe("generated secret values", () => {
    it("are 32 letters and digits from Node's cryptographic generator, different every time", () => {
        const values = Array.from({ length: 20 }, () => generateSecretValue(32));
        for (const value of values) {
            assert.match(value, /^[A-Za-z0-9]{32}$/);
        }
        assert.strictEqual(new Set(values).size, values.length);
        assert.strictEqual(GENERATED_SECRET_ALPHABET.length, 62);
    });

    it("draw every character of the alphabet, each by one call of the generator", () => {
        let calls = 0;
        const value = generateSecretValue(GENERATED_SECRET_ALPHABET.length, (below) => {
            assert.strictEqual(below, 62);
            return calls++;
        });
        assert.strictEqual(value, GENERATED_SECRET_ALPHABET);
    });
});

describe("the credentials a running cluster keeps", () => {
    const updates: [string, EmqxClusterArgs][] = [
        ["a config change", { emqxConfig: { "mqtt.max_packet_size": "2MB" }, version: "5.8.7" }],
        ["a scale", { emqxConfig: { "mqtt.max_packet_size": "2MB" }, replicas: 5, version: "5.8.7" }],
        ["a version patch", { emqxConfig: { "mqtt.max_packet_size": "2MB" }, replicas: 5, version: "5.8.8" }],
    ];

    it("keep the cookie and the password through a config change, a scale and a version patch", async () => {
        const engine = new MockEngine();
        const first = await deploy({ version: "5.8.7" }, { engine });
        const cookie = podEnvironment(first.resources, 0).EMQX_NODE__COOKIE;
        const password = await valueOf(first.cluster.dashboardPassword);
        assert.match(cookie, /^[A-Za-z0-9]{32}$/);
        for (const [change, args] of updates) {
            const next = await deploy(args, { engine });
            // Not even updated: an update would apply the recorded values over a password recorded by hand.
            assert.deepStrictEqual(credentialsOf(next).state, credentialsOf(first).state, change);
            for (let ordinal = 0; ordinal < (args.replicas ?? 3); ordinal++) {
                assert.strictEqual(podEnvironment(next.resources, ordinal).EMQX_NODE__COOKIE, cookie, `${change}, pod ${ordinal}`);
            }
            assert.strictEqual(await valueOf(next.cluster.dashboardPassword), password, change);
        }
    });

    it("are kept under a fixed name, never replaced, and marked secret in the state", async () => {
        const d = await deploy({});
        const credentials = credentialsOf(d);
        assert.strictEqual(credentials.inputs.metadata.name, "emqx-credentials");
        assert.deepStrictEqual(credentials.replaceOnChanges, []);
        assert.ok(credentials.secretPaths.includes("stringData"), "the generated values are not marked secret");
        assert.strictEqual(await isSecret(d.cluster.dashboardPassword), true);
        // The pods' settings Secret holds the password again, secret too; the ConfigMap holds neither.
        for (const secret of ofType(d.resources, TYPES.secret)) {
            assert.ok(secret.secretPaths.includes("stringData"), secret.name);
        }
        const password = await valueOf(d.cluster.dashboardPassword);
        const cookie = Buffer.from(credentials.state.data["erlang-cookie"], "base64").toString();
        const configMap = JSON.stringify(ofType(d.resources, TYPES.configMap)[0].state);
        assert.ok(!configMap.includes(password) && !configMap.includes(cookie));
    });

    it("give the dashboardPassword output from what the cluster holds", async () => {
        const d = await deploy({});
        const held = Buffer.from(credentialsOf(d).state.data["dashboard-password"], "base64").toString();
        assert.strictEqual(await valueOf(d.cluster.dashboardPassword), held);
        assert.strictEqual(podEnvironment(d.resources, 0).EMQX_DASHBOARD__DEFAULT_PASSWORD, JSON.stringify(held));
    });
});

describe("changing the dashboard password of a running cluster", () => {
    it("rolls no pod, keeps the output on the password EMQX has, and warns", async () => {
        const engine = new MockEngine();
        const first = await deploy({ dashboard: { password: "first-boot" } }, { engine });
        const changed = await deploy({ dashboard: { password: "changed-later" } }, { engine });
        assert.deepStrictEqual(statefulSetOf(changed), statefulSetOf(first), "the pods would roll");
        assert.deepStrictEqual(
            ofType(changed.resources, TYPES.secret).map((s) => s.state),
            ofType(first.resources, TYPES.secret).map((s) => s.state),
        );
        assert.strictEqual(await valueOf(changed.cluster.dashboardPassword), "first-boot");
        const passwordWarnings = changed.warnings.filter((w) => w.includes("dashboard.password"));
        assert.strictEqual(passwordWarnings.length, 1);
        assert.match(passwordWarnings[0], /dashboard\.password differs .* ignored .*Changing the dashboard password/s);
        assert.ok(!changed.warnings.join("\n").includes("first-boot") && !changed.warnings.join("\n").includes("changed-later"));
        assert.deepStrictEqual(first.warnings.filter((w) => w.includes("dashboard.password")), []);
    });

    it("warns when a password is given to a cluster that runs with a generated one", async () => {
        const engine = new MockEngine();
        await deploy({}, { engine });
        const given = await deploy({ dashboard: { password: "now-given" } }, { engine });
        assert.match(given.warnings.join("\n"), /dashboard\.password differs/);
        assert.notStrictEqual(await valueOf(given.cluster.dashboardPassword), "now-given");
    });
});

/**
 * Client authentication and authorization, settings and the licence from Secrets by reference, and the 4.x
 * management application: what the pods get, what stays secret, and what is refused.
 */
import * as assert from "assert";
import { EmqxClusterArgs } from "../components";
import { changeGuardProvider } from "../components/change-guard";
import { ChangeGuardState } from "../components/changes";
import { ResolvedArgs } from "../components/checks";
import { planCluster } from "../components/plan";
import { MockEngine, RegisteredResource, TYPES, isSecret, ofType, single, valueOf } from "./harness";
import { Deployment, assertRefusedBeforeCreating, containerOf, deploy, statefulSetOf } from "./deploy";

function settingsOf(d: Deployment): Record<string, string> {
    return single(d.resources, TYPES.configMap).state.data;
}

function secretNamed(d: Deployment, name: string): RegisteredResource | undefined {
    return ofType(d.resources, TYPES.secret).find((r) => r.state.metadata?.name === name);
}

function envOf(d: Deployment, name: string): Record<string, any> | undefined {
    return containerOf(d).env.find((e: { name: string }) => e.name === name);
}

function volumeOf(d: Deployment, name: string): Record<string, any> | undefined {
    return statefulSetOf(d).spec.template.spec.volumes.find((v: { name: string }) => v.name === name);
}

function mountOf(d: Deployment, name: string): Record<string, any> | undefined {
    return containerOf(d).volumeMounts.find((m: { name: string }) => m.name === name);
}

function decoded(secret: RegisteredResource, key: string): string {
    const data = secret.state.data ?? {};
    return data[key] !== undefined ? Buffer.from(data[key], "base64").toString("utf8") : secret.state.stringData[key];
}

describe("client authentication", () => {
    describe("on EMQX 5.7.2+ (built-in database, users imported from a bootstrap file)", () => {
        it("is on by default: a generated user in a kept Secret, imported from its mounted CSV file", async () => {
            const d = await deploy({ version: "5.8.9" });
            assert.strictEqual(
                settingsOf(d).EMQX_AUTHENTICATION,
                `[{mechanism = password_based, backend = built_in_database, user_id_type = username, ` +
                    `password_hash_algorithm {name = sha256, salt_position = suffix}, ` +
                    `bootstrap_file = "/opt/emqx/etc/mqtt-users/users.csv", bootstrap_type = plain}]`,
            );
            assert.deepStrictEqual(volumeOf(d, "mqtt-users"), {
                name: "mqtt-users",
                secret: { secretName: "emqx-mqtt-users", items: [{ key: "users.csv", path: "users.csv" }], defaultMode: 0o440 },
            });
            assert.deepStrictEqual(mountOf(d, "mqtt-users"), { name: "mqtt-users", mountPath: "/opt/emqx/etc/mqtt-users", readOnly: true });

            const users = secretNamed(d, "emqx-mqtt-users");
            assert.ok(users, "no generated users Secret");
            assert.deepStrictEqual(users.ignoreChanges, ["stringData", "data"], "the generated user is not kept");
            assert.ok(users.secretPaths.includes("stringData"), "its data is not a secret");
            const password = await valueOf(d.cluster.mqttPassword);
            assert.match(password ?? "", /^[A-Za-z0-9]{32}$/);
            assert.strictEqual(await isSecret(d.cluster.mqttPassword), true);
            assert.strictEqual(await valueOf(d.cluster.mqttUsername), "mqtt");
            assert.strictEqual(decoded(users, "users.csv"), `user_id,password,is_superuser\nmqtt,${password},false\n`);
            assert.strictEqual(decoded(users, "password"), password);
            // The pods wait for the Secret they mount.
            assert.ok(single(d.resources, TYPES.statefulSet).dependencies.includes(users.urn));
        });

        it("tells clients which Secret and keys hold their credentials, never the values or the dashboard account", async () => {
            const d = await deploy({ version: "5.8.9", dashboard: { username: "opsroot", password: "dashboard-secret-1" } });
            const config = await valueOf(d.cluster.clientConfig);
            assert.deepStrictEqual(
                { ...config.auth, credentials: undefined },
                {
                    authentication: "password (built-in database)",
                    anonymousAllowed: false,
                    secretName: "emqx-mqtt-users",
                    usernameKey: "username",
                    passwordKey: "password",
                    usersFileKey: "users.csv",
                    credentials: undefined,
                },
            );
            const text = JSON.stringify(config);
            assert.ok(!text.includes((await valueOf(d.cluster.mqttPassword)) as string), "clientConfig holds the MQTT password");
            assert.ok(!text.includes("dashboard-secret-1") && !text.includes("opsroot"), "clientConfig names the dashboard account");
        });

        it("keeps the generated user's password through an update", async () => {
            const engine = new MockEngine();
            const first = await deploy({ version: "5.8.9" }, { engine });
            const next = await deploy({ version: "5.8.9", emqxConfig: { "mqtt.max_packet_size": "2MB" } }, { engine });
            assert.strictEqual(await valueOf(next.cluster.mqttPassword), await valueOf(first.cluster.mqttPassword));
        });

        it("imports the users of a Secret you name instead, by key, and generates none", async () => {
            const d = await deploy({ version: "5.7.2", authentication: { users: { secretName: "fleet-users", key: "users.json" } } });
            assert.match(settingsOf(d).EMQX_AUTHENTICATION, /bootstrap_file = "\/opt\/emqx\/etc\/mqtt-users\/users\.json", bootstrap_type = plain/);
            assert.deepStrictEqual(volumeOf(d, "mqtt-users")?.secret.secretName, "fleet-users");
            assert.deepStrictEqual(volumeOf(d, "mqtt-users")?.secret.items, [{ key: "users.json", path: "users.json" }]);
            assert.strictEqual(secretNamed(d, "emqx-mqtt-users"), undefined);
            assert.strictEqual(await valueOf(d.cluster.mqttPassword), undefined);
            const auth = (await valueOf(d.cluster.clientConfig)).auth;
            assert.deepStrictEqual([auth.secretName, auth.usersFileKey, auth.passwordKey], ["fleet-users", "users.json", undefined]);
        });

        it("refuses a users key EMQX cannot read the format of, and a Secret name Kubernetes refuses", async () => {
            await assertRefusedBeforeCreating({ authentication: { users: { secretName: "fleet-users", key: "users.txt" } } }, "authentication.users.key", /\.csv or \.json/);
            await assertRefusedBeforeCreating({ authentication: { users: { secretName: "Fleet_Users" } } }, "authentication.users.secretName", /not a Secret name/);
            await assertRefusedBeforeCreating(
                { authentication: { allowAnonymous: true, users: { secretName: "fleet-users" } } },
                "authentication.users",
                /allowAnonymous: true configures no authenticator/,
            );
        });
    });

    describe("on EMQX 5.0-5.7.1 (no bootstrap file)", () => {
        for (const version of ["5.0.26", "5.3.2", "5.7.1"]) {
            it(`${version}: refuses anonymous clients, warns that users must be added in the dashboard, refuses users`, async () => {
                const d = await deploy({ version });
                assert.strictEqual(
                    settingsOf(d).EMQX_AUTHENTICATION,
                    `[{mechanism = password_based, backend = built_in_database, user_id_type = username, ` +
                        `password_hash_algorithm {name = sha256, salt_position = suffix}}]`,
                );
                assert.strictEqual(volumeOf(d, "mqtt-users"), undefined);
                assert.strictEqual(secretNamed(d, "emqx-mqtt-users"), undefined);
                assert.ok(d.warnings.some((w) => /no user exists until you add one in the dashboard/.test(w)), d.warnings.join("\n"));
                assert.strictEqual((await valueOf(d.cluster.clientConfig)).auth.secretName, undefined);
                await assertRefusedBeforeCreating(
                    { version, authentication: { users: { secretName: "fleet-users" } } },
                    "authentication.users",
                    /bootstrap_file arrived in 5\.7\.2/,
                );
            });
        }
    });

    describe("on EMQX 4.3 and 4.4 (the emqx_auth_mnesia plugin)", () => {
        for (const version of ["4.3.22", "4.4.19"]) {
            it(`${version}: loads the plugin, refuses anonymous clients and passes the generated user's password from its Secret`, async () => {
                const d = await deploy({ version, discovery: "static" });
                const settings = settingsOf(d);
                assert.strictEqual(settings.EMQX_ALLOW_ANONYMOUS, "false");
                // After the image's default plugins: on an empty data volume the entrypoint writes only the listed ones.
                assert.strictEqual(
                    settings.EMQX_LOADED_PLUGINS,
                    `emqx_management,emqx_dashboard,emqx_recon,emqx_retainer,emqx_rule_engine,emqx_telemetry,emqx_auth_mnesia`,
                );
                assert.strictEqual(settings.EMQX_AUTH__USER__1__USERNAME, "mqtt");
                assert.deepStrictEqual(envOf(d, "EMQX_AUTH__USER__1__PASSWORD"), {
                    name: "EMQX_AUTH__USER__1__PASSWORD",
                    valueFrom: { secretKeyRef: { name: "emqx-mqtt-users", key: "password" } },
                });
                const password = (await valueOf(d.cluster.mqttPassword)) as string;
                assert.ok(!JSON.stringify(settings).includes(password), "the password is in the ConfigMap");
                await assertRefusedBeforeCreating(
                    { version, discovery: "static", authentication: { users: { secretName: "fleet-users" } } },
                    "authentication.users",
                    /numbered settings.*"auth\.user\.2\.username".*"auth\.user\.2\.password"/,
                );
            });
        }
    });

    describe("on EMQX 4.0-4.2", () => {
        it("refuses the default with the reason, and runs with anonymous clients only when told so", async () => {
            await assertRefusedBeforeCreating({ version: "v4.2.14", discovery: "static" }, "authentication", /4\.0 ships emqx_auth_username.*use EMQX 4\.3 or later, or set authentication\.allowAnonymous: true/);
            const d = await deploy({ version: "v4.2.14", discovery: "static", authentication: { allowAnonymous: true } });
            assert.strictEqual(settingsOf(d).EMQX_ALLOW_ANONYMOUS, undefined);
            assert.strictEqual((await valueOf(d.cluster.clientConfig)).auth.anonymousAllowed, true);
        });
    });

    it("allowAnonymous: true configures nothing, as before the arg existed, and leaves emqxConfig free to", async () => {
        const d = await deploy({ authentication: { allowAnonymous: true }, emqxConfig: { "authentication.1.enable": "true" } });
        assert.strictEqual(settingsOf(d).EMQX_AUTHENTICATION, undefined);
        assert.strictEqual(secretNamed(d, "emqx-mqtt-users"), undefined);
        assert.strictEqual(await valueOf(d.cluster.mqttUsername), undefined);
        const auth = (await valueOf(d.cluster.clientConfig)).auth;
        assert.match(auth.authentication, /configured through emqxConfig \(authentication\.1\.enable\)/);
    });

    it("refuses emqxConfig authentication settings while the component authenticates", async () => {
        await assertRefusedBeforeCreating({ emqxConfig: { authentication: "[]" } }, 'emqxConfig["authentication"]', /allowAnonymous: true to configure authentication yourself/);
        await assertRefusedBeforeCreating({ version: "4.4.19", emqxConfig: { allow_anonymous: "true" } }, 'emqxConfig["allow_anonymous"]', /from authentication/);
    });

    it("is a plain arg: an Output is refused with the fix", async () => {
        const pulumi = await import("@pulumi/pulumi");
        await assertRefusedBeforeCreating(
            { authentication: pulumi.output({ allowAnonymous: true }) as unknown as EmqxClusterArgs["authentication"] },
            "authentication",
            /must be a plain value/,
        );
    });
});

describe("the change guard and anonymous clients", () => {
    const guard = (args: EmqxClusterArgs): ChangeGuardState => planCluster("emqx", { discovery: "static", ...args } as ResolvedArgs).guard;
    const refusals = async (old: ChangeGuardState | undefined, next: ChangeGuardState, acknowledged: string[] = []) => {
        const checked = await changeGuardProvider.check!(old ? { state: old } : {}, { state: next, acknowledged });
        return (checked.failures ?? []).map((f) => f.reason);
    };

    it("refuses locking out the anonymous clients of a cluster deployed before authentication existed", async () => {
        // The state such a cluster's guard stored: no allowAnonymous field.
        const before: Record<string, unknown> = { ...guard({ authentication: { allowAnonymous: true } }) };
        delete before.allowAnonymous;
        const [refusal, ...more] = await refusals(before as unknown as ChangeGuardState, guard({}));
        assert.deepStrictEqual(more, []);
        assert.match(refusal, /^allowAnonymous: this cluster accepts MQTT clients without credentials.*authentication: \{ allowAnonymous: true \}.*add "allowAnonymous" to acknowledgedChanges/s);
    });

    it("refuses it from allowAnonymous: true too, even with a new volume generation, and lets it through when acknowledged", async () => {
        const before = guard({ authentication: { allowAnonymous: true } });
        assert.strictEqual((await refusals(before, guard({ volumeGeneration: 1 }))).length, 1);
        assert.deepStrictEqual(await refusals(before, guard({}), ["allowAnonymous"]), []);
    });

    it("lets a new cluster, a kept setting and turning anonymous access on through", async () => {
        assert.deepStrictEqual(await refusals(undefined, guard({})), []);
        assert.deepStrictEqual(await refusals(guard({}), guard({ replicas: 5 })), []);
        assert.deepStrictEqual(await refusals(guard({}), guard({ authentication: { allowAnonymous: true } })), []);
    });
});

describe("authorization rules", () => {
    it("mounts the ACL file of a ConfigMap and points EMQX 5 at it, denying what no rule matches", async () => {
        const d = await deploy({ authorization: { rules: { configMapName: "mqtt-acl" } } });
        assert.strictEqual(settingsOf(d)["EMQX_AUTHORIZATION__SOURCES"], `[{type = file, enable = true, path = "/opt/emqx/etc/acl/acl.conf"}]`);
        assert.strictEqual(settingsOf(d)["EMQX_AUTHORIZATION__NO_MATCH"], "deny");
        assert.deepStrictEqual(volumeOf(d, "acl"), { name: "acl", configMap: { name: "mqtt-acl", items: [{ key: "acl.conf", path: "acl.conf" }], defaultMode: 0o440 } });
        assert.deepStrictEqual(mountOf(d, "acl"), { name: "acl", mountPath: "/opt/emqx/etc/acl", readOnly: true });
    });

    it("takes a Secret and a key, and sets 4.x's acl_file and acl_nomatch", async () => {
        const d = await deploy({ version: "4.4.19", authorization: { rules: { secretName: "mqtt-acl", key: "rules.conf" }, noMatch: "allow" } });
        assert.strictEqual(settingsOf(d).EMQX_ACL_FILE, "/opt/emqx/etc/acl/rules.conf");
        assert.strictEqual(settingsOf(d).EMQX_ACL_NOMATCH, "allow");
        assert.deepStrictEqual(volumeOf(d, "acl")?.secret, { secretName: "mqtt-acl", items: [{ key: "rules.conf", path: "rules.conf" }], defaultMode: 0o440 });
    });

    it("refuses both sources or none, an unknown noMatch and emqxConfig settings it owns", async () => {
        await assertRefusedBeforeCreating({ authorization: { rules: { configMapName: "a", secretName: "b" } } }, "authorization.rules", /exactly one of configMapName and secretName/);
        await assertRefusedBeforeCreating({ authorization: { rules: {} } }, "authorization.rules", /exactly one/);
        await assertRefusedBeforeCreating({ authorization: { rules: { configMapName: "a" }, noMatch: "ignore" as "deny" } }, "authorization.noMatch", /"allow" or "deny"/);
        await assertRefusedBeforeCreating(
            { authorization: { rules: { configMapName: "a" } }, emqxConfig: { "authorization.no_match": "allow" } },
            'emqxConfig["authorization.no_match"]',
            /from authorization/,
        );
    });
});

describe("settings from Secrets by reference", () => {
    it("reach the pod as EMQX_* variables with secretKeyRef, never through the ConfigMap", async () => {
        const d = await deploy({ secretSettings: { "bridges.mqtt.cloud.password": { name: "bridge-creds", key: "password" } } });
        assert.deepStrictEqual(envOf(d, "EMQX_BRIDGES__MQTT__CLOUD__PASSWORD"), {
            name: "EMQX_BRIDGES__MQTT__CLOUD__PASSWORD",
            valueFrom: { secretKeyRef: { name: "bridge-creds", key: "password" } },
        });
        assert.strictEqual(settingsOf(d).EMQX_BRIDGES__MQTT__CLOUD__PASSWORD, undefined);
    });

    it("take an Output and are checked once it is known", async () => {
        const pulumi = await import("@pulumi/pulumi");
        const d = await deploy({ secretSettings: pulumi.output({ "bridges.mqtt.cloud.password": { name: "bridge-creds", key: "password" } }) });
        assert.ok(envOf(d, "EMQX_BRIDGES__MQTT__CLOUD__PASSWORD"));
    });

    it("refuse settings the component owns, paths emqxConfig sets and bad references", async () => {
        await assertRefusedBeforeCreating({ secretSettings: { "node.cookie": { name: "s", key: "k" } } }, 'secretSettings["node.cookie"]', /managed by the component/);
        await assertRefusedBeforeCreating(
            { secretSettings: { "a.b": { name: "s", key: "k" } }, emqxConfig: { "a.b": "1" } },
            'secretSettings["a.b"]',
            /emqxConfig sets a\.b too/,
        );
        await assertRefusedBeforeCreating({ secretSettings: { "a.b": { name: "S!", key: "k" } } }, 'secretSettings["a.b"].name', /not a Secret name/);
        await assertRefusedBeforeCreating({ secretSettings: { "a.b": { name: "s", key: "a/b" } } }, 'secretSettings["a.b"].key', /not a Secret key/);
        await assertRefusedBeforeCreating(
            { version: "4.4.19", secretSettings: { "management.default_application.secret": { name: "s", key: "k" } } },
            'secretSettings["management.default_application.secret"]',
            /the component sets/,
        );
    });

    it("are refused on 4.0-4.2 where the image prints the value to the log", async () => {
        const anonymous = { authentication: { allowAnonymous: true }, discovery: "static" as const };
        await assertRefusedBeforeCreating(
            { ...anonymous, version: "v4.1.0", secretSettings: { "auth.mysql.password": { name: "s", key: "k" } } },
            'secretSettings["auth.mysql.password"]',
            /prints auth\.mysql\.password's value to the container log \(its entrypoint masks no value\)/,
        );
        await assertRefusedBeforeCreating(
            { ...anonymous, version: "v4.2.14", secretSettings: { "bridge.mqtt.aws.address": { name: "s", key: "k" } } },
            'secretSettings["bridge.mqtt.aws.address"]',
            /masks only settings named password/,
        );
        const d = await deploy({ ...anonymous, version: "v4.2.14", secretSettings: { "auth.mysql.password": { name: "s", key: "k" } } });
        assert.ok(envOf(d, "EMQX_AUTH__MYSQL__PASSWORD"));
    });
});

describe("the licence key from a Secret", () => {
    it("reaches EMQX_LICENSE__KEY by secretKeyRef and counts as a licence for a 5.9+ cluster", async () => {
        const d = await deploy({ version: "5.10.1", licenseKeySecret: { name: "emqx-licence", key: "key" } });
        assert.deepStrictEqual(envOf(d, "EMQX_LICENSE__KEY"), { name: "EMQX_LICENSE__KEY", valueFrom: { secretKeyRef: { name: "emqx-licence", key: "key" } } });
        assert.strictEqual(settingsOf(d).EMQX_LICENSE__KEY, undefined);
    });

    it("is refused next to licenseKey, on 4.x, and with a bad reference", async () => {
        await assertRefusedBeforeCreating({ licenseKey: "k", licenseKeySecret: { name: "l", key: "k" } }, "licenseKeySecret", /licenseKey is given too/);
        await assertRefusedBeforeCreating({ version: "4.4.19", licenseKeySecret: { name: "l", key: "k" } }, "licenseKeySecret", /5\.x only/);
        await assertRefusedBeforeCreating({ licenseKeySecret: { name: "l", key: "" } }, "licenseKeySecret.key", /not a Secret key/);
    });
});

describe("the 4.x management API's default application", () => {
    it("gets a generated secret instead of public, kept in its own Secret, and the id api", async () => {
        const d = await deploy({ version: "4.4.19" });
        assert.strictEqual(settingsOf(d).EMQX_MANAGEMENT__DEFAULT_APPLICATION__ID, "api");
        assert.deepStrictEqual(envOf(d, "EMQX_MANAGEMENT__DEFAULT_APPLICATION__SECRET"), {
            name: "EMQX_MANAGEMENT__DEFAULT_APPLICATION__SECRET",
            valueFrom: { secretKeyRef: { name: "emqx-management-app", key: "app-secret" } },
        });
        const app = secretNamed(d, "emqx-management-app");
        assert.ok(app);
        assert.deepStrictEqual(app.ignoreChanges, ["stringData", "data"]);
        const secret = await valueOf(d.cluster.managementAppSecret);
        assert.match(secret ?? "", /^[A-Za-z0-9]{32}$/);
        assert.strictEqual(decoded(app, "app-secret"), secret);
        assert.strictEqual(await isSecret(d.cluster.managementAppSecret), true);
        assert.strictEqual(await valueOf(d.cluster.managementAppId), "api");
        assert.ok(!JSON.stringify(settingsOf(d)).includes(secret as string));
    });

    it("is not set up on 5.x, and emqxConfig may not set it on 4.x", async () => {
        const d = await deploy({ version: "5.8.9" });
        assert.strictEqual(await valueOf(d.cluster.managementAppSecret), undefined);
        assert.strictEqual(secretNamed(d, "emqx-management-app"), undefined);
        await assertRefusedBeforeCreating(
            { version: "4.4.19", emqxConfig: { "management.default_application.secret": "public" } },
            'emqxConfig["management.default_application.secret"]',
            /generated management application/,
        );
    });
});

describe("4.0-4.1.0 images, which log every setting", () => {
    it("warn that the cookie, dashboard password and management secret reach the log", async () => {
        const d = await deploy({ version: "v4.0.13", discovery: "static", authentication: { allowAnonymous: true } });
        assert.ok(d.warnings.some((w) => /prints every EMQX_\* setting to the container log/.test(w)), d.warnings.join("\n"));
        const later = await deploy({ version: "v4.2.14", discovery: "static", authentication: { allowAnonymous: true } });
        assert.ok(!later.warnings.some((w) => /prints every EMQX_\* setting/.test(w)));
    });
});

describe("what containers may not replace", () => {
    it("refuses the auth volumes' names, mounts over them and the variables of secret settings", async () => {
        await assertRefusedBeforeCreating(
            { containers: { volumes: [{ name: "mqtt-users", emptyDir: {} }] } },
            "containers.volumes[0]",
            /"mqtt-users" is the component's \(mounted at \/opt\/emqx\/etc\/mqtt-users\)/,
        );
        await assertRefusedBeforeCreating(
            { authorization: { rules: { configMapName: "acl" } }, containers: { volumes: [{ name: "x", emptyDir: {} }], volumeMounts: [{ name: "x", mountPath: "/opt/emqx/etc/acl" }] } },
            "containers.volumeMounts[0]",
            /overlaps the component's acl volume/,
        );
        await assertRefusedBeforeCreating(
            { secretSettings: { "a.b": { name: "s", key: "k" } }, containers: { env: [{ name: "EMQX_A__B", value: "x" }] } },
            "containers.env[0]",
            /EMQX_A__B is set by the component/,
        );
    });

    it("leaves /opt/emqx/etc to them when nothing is mounted there", async () => {
        const d = await deploy({
            authentication: { allowAnonymous: true },
            containers: { volumes: [{ name: "etc", emptyDir: {} }], volumeMounts: [{ name: "etc", mountPath: "/opt/emqx/etc/mqtt-users" }] },
        });
        assert.ok(mountOf(d, "etc"));
    });
});

describe("the program's authentication settings", () => {
    async function render(stack: string, overrides: Record<string, unknown> = {}) {
        const { runProgram, stackConfig } = await import("./stack-config");
        const run = await new MockEngine().run(runProgram, { config: stackConfig(stack, overrides) });
        return { run, outputs: run.value as Record<string, import("@pulumi/pulumi").Output<unknown>> };
    }

    it("the prod stack authenticates clients and exports the generated user's password as a secret", async () => {
        const { run, outputs } = await render("prod");
        assert.match(single(run.resources, TYPES.configMap).state.data.EMQX_AUTHENTICATION, /built_in_database/);
        assert.strictEqual(await isSecret(outputs.mqttPassword), true);
        assert.strictEqual(await valueOf(outputs.mqttUsername), "mqtt");
    });

    it("passes the users Secret, the ACL file, the licence Secret and allowAnonymous from the stack config", async () => {
        const { run } = await render("dev", {
            mqttUsersSecret: "fleet-users",
            mqttUsersKey: "users.json",
            authorizationSecret: "mqtt-acl",
            authorizationNoMatch: "allow",
            licenseKeySecretName: "emqx-licence",
        });
        const pod = single(run.resources, TYPES.statefulSet).state.spec.template.spec;
        const volumes = Object.fromEntries(pod.volumes.map((v: any) => [v.name, v]));
        assert.strictEqual(volumes["mqtt-users"].secret.secretName, "fleet-users");
        assert.deepStrictEqual(volumes["mqtt-users"].secret.items, [{ key: "users.json", path: "users.json" }]);
        assert.strictEqual(volumes.acl.secret.secretName, "mqtt-acl");
        assert.strictEqual(single(run.resources, TYPES.configMap).state.data.EMQX_AUTHORIZATION__NO_MATCH, "allow");
        const licence = pod.containers[0].env.find((e: any) => e.name === "EMQX_LICENSE__KEY");
        assert.deepStrictEqual(licence.valueFrom.secretKeyRef, { name: "emqx-licence", key: "license.key" });
        const anonymous = await render("dev", { allowAnonymous: true });
        assert.strictEqual(single(anonymous.run.resources, TYPES.configMap).state.data.EMQX_AUTHENTICATION, undefined);
    });
});

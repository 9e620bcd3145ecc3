/**
 * `autoclean`: how long a stopped node stays a cluster member before the remaining nodes remove it, per version
 * family, and what is refused.
 */
import * as assert from "assert";
import * as pulumi from "@pulumi/pulumi";
import { durationSeconds } from "../components/membership";
import { assertRefusedBeforeCreating, deploy, problemsOf } from "./deploy";
import { podEnvironment } from "./pod";

async function autocleanOf(args: Parameters<typeof deploy>[0]): Promise<string | undefined> {
    return podEnvironment((await deploy(args)).resources, 0).EMQX_CLUSTER__AUTOCLEAN;
}

describe("autoclean: stopped nodes leave the member list within a bounded time", () => {
    // One release of each family of the version table, with the duration the pods get by default.
    const defaults: [string, string | undefined][] = [
        ["v4.2.14", "5m"],
        ["4.3.22", "5m"],
        ["4.4.19", "5m"],
        ["5.0.26", undefined],
        ["5.1.0", "1h"],
        ["5.3.2", "1h"],
        ["5.8.9", "1h"],
    ];
    for (const [version, expected] of defaults) {
        it(`sets cluster.autoclean to ${expected ?? "nothing"} by default on ${version}`, async () => {
            // dns discovery needs 4.4+; k8s works on every family. 4.0-4.2 have no client authentication to turn on.
            const anonymous = version.startsWith("v4.2") ? { authentication: { allowAnonymous: true } } : {};
            assert.strictEqual(await autocleanOf({ version, discovery: "k8s", ...anonymous }), expected);
        });
    }

    it("sets it on 5.9+ too, where EMQX's own default is a day", async () => {
        assert.strictEqual(await autocleanOf({ version: "5.9.1", licenseKey: "key" }), "1h");
    });

    it("passes the given duration to every family that honours the setting", async () => {
        assert.strictEqual(await autocleanOf({ version: "4.4.19", autoclean: "30m" }), "30m");
        assert.strictEqual(await autocleanOf({ version: "5.8.9", autoclean: "24h" }), "24h");
    });

    it("takes the duration as an Output", async () => {
        assert.strictEqual(await autocleanOf({ autoclean: pulumi.output("2h") }), "2h");
    });

    it("changes the ConfigMap's name with the duration, so a change rolls the pods", async () => {
        const template = async (autoclean: string) =>
            JSON.stringify((await deploy({ autoclean })).resources.find((r) => r.type === "kubernetes:apps/v1:StatefulSet")?.state.spec.template);
        assert.notStrictEqual(await template("30m"), await template("2h"));
    });

    it("refuses what is not a whole number of s, m or h, naming the field", async () => {
        for (const value of ["5", "5 m", "1d", "1.5h", "0m", "-5m", "5min"]) {
            await assertRefusedBeforeCreating({ autoclean: value }, "autoclean", /is not a duration such as 30m/);
        }
    });

    it("refuses a duration a restart could outlast", async () => {
        await assertRefusedBeforeCreating({ autoclean: "30s" }, "autoclean", /a restarting node would be removed.*at least 1m/);
        assert.strictEqual(await autocleanOf({ autoclean: "60s" }), "60s");
    });

    it("refuses it on 5.0.x, which ignore the setting, with the fix", async () => {
        await assertRefusedBeforeCreating({ version: "5.0.26", autoclean: "1h" }, "autoclean", /emqx#11070.*force-leave.*5\.1\.0 or later/);
    });

    it("refuses a bad duration given as an Output once it is known", async () => {
        const problems = await problemsOf({ autoclean: pulumi.output("soon") });
        assert.ok(problems.some((p) => /^autoclean: "soon" is not a duration/.test(p)), problems.join("\n"));
    });

    it("refuses cluster.autoclean in emqxConfig, pointing to the arg", async () => {
        await assertRefusedBeforeCreating({ emqxConfig: { "cluster.autoclean": "24h" } }, 'emqxConfig["cluster.autoclean"]', /use autoclean/);
    });

    it("reads durations the way EMQX does", () => {
        assert.strictEqual(durationSeconds("90s"), 90);
        assert.strictEqual(durationSeconds("5m"), 300);
        assert.strictEqual(durationSeconds("24h"), 86400);
        assert.strictEqual(durationSeconds("1d"), undefined);
    });
});

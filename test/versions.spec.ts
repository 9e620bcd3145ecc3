import * as assert from "assert";
import { resolveVersion, VersionProfile } from "../components/versions";

function profile(tag: string): VersionProfile {
    const resolved = resolveVersion(tag);
    assert.ok(typeof resolved !== "string", `${tag}: ${resolved}`);
    return resolved;
}

describe("EMQX versions and image tags", () => {
    const accepted: [string, string, string][] = [
        ["4.4.19", "4.4.19", "4.4"],
        ["v4.1-rc.1", "v4.1-rc.1", "4.0-4.2"],
        ["4.2.14", "v4.2.14", "4.0-4.2"],
        ["4.3.22", "4.3.22", "4.3"],
        ["5.8.9", "5.8.9", "5.4-5.8"],
        ["5.8", "5.8", "5.4-5.8"],
        ["v5.8.9", "5.8.9", "5.4-5.8"],
        ["5.0.0-beta.3", "5.0.0-beta.3", "5.0-5.3"],
        ["5.10.1", "5.10.1", "5.9+"],
        [`5.8.9@sha256:${"a".repeat(64)}`, `5.8.9@sha256:${"a".repeat(64)}`, "5.4-5.8"],
    ];
    for (const [tag, imageTag, family] of accepted) {
        it(`accepts ${tag.slice(0, 20)} as image tag ${imageTag.slice(0, 20)} of family ${family}`, () => {
            const p = profile(tag);
            assert.strictEqual(p.imageTag, imageTag);
            assert.strictEqual(p.family.name, family);
        });
    }

    for (const tag of ["latest", "5", "5.8.9-alpine", "5.8.9@sha256:abc", "3.2.0", "6.0.0", ""]) {
        it(`refuses "${tag}" and lists the accepted forms or releases`, () => {
            const resolved = resolveVersion(tag);
            assert.strictEqual(typeof resolved, "string");
            assert.match(resolved as string, /accepted forms|supported releases/);
        });
    }

    it("knows the gates inside 5.x", () => {
        assert.strictEqual(profile("5.0.4").healthPath, "/api/v5/status");
        assert.strictEqual(profile("5.0.5").healthPath, "/status");
        assert.strictEqual(profile("5.5.1").supportsDnsAaaa, false);
        assert.strictEqual(profile("5.6.0").supportsDnsAaaa, true);
        assert.strictEqual(profile("5.7.2").supportsSingleton, false);
        assert.strictEqual(profile("5.8.0").supportsSingleton, true);
        assert.strictEqual(profile("5.7.2").supportsReplicantOpenSource, true);
        assert.strictEqual(profile("5.8.0").supportsReplicantOpenSource, false);
        assert.strictEqual(profile("5.9.1").family.licenceRequiredForCluster, true);
        assert.strictEqual(profile("5.8.9").family.licenceRequiredForCluster, false);
        assert.strictEqual(profile("5.9.1").dataCreatedSinceRank, 0);
        assert.strictEqual(profile("5.10.0").dataCreatedSinceRank, 50400);
    });

    it("knows the 4.x management API and Prometheus endpoints", () => {
        const four = profile("4.4.19");
        assert.strictEqual(four.managementPort, 8081);
        assert.strictEqual(four.prometheusPath, "/api/v4/emqx_prometheus?type=prometheus");
        assert.strictEqual(profile("5.8.9").prometheusPath, "/api/v5/prometheus/stats");
        assert.strictEqual(profile("5.8.9").managementPort, undefined);
    });
});

import * as semver from "semver";
import { DiscoveryMode } from "./args";

/**
 * Everything that differs between EMQX releases, as data. A version resolves to one family row plus the gates
 * that changed inside a family; nothing else in the package compares version numbers.
 */
export interface VersionFamily {
    /** Human name used in messages and docs, e.g. `5.4-5.8`. */
    readonly name: string;
    /** semver range of the releases in this family (prereleases included). */
    readonly range: string;
    readonly major: 4 | 5;
    /** Image tags of this family start with `v` (`v4.2.14`); later ones do not (`4.4.19`, `5.8.9`). */
    readonly tagPrefix: "v" | "";
    /** Discovery modes that form a cluster of StatefulSet pods on this family. */
    readonly discoveryModes: readonly DiscoveryMode[];
    /** Why a mode missing from `discoveryModes` does not work here, and what to use instead. */
    readonly discoveryLimit?: string;
    /** More than one node needs a licence key (the BSL images from 5.9 on). */
    readonly licenceRequiredForCluster: boolean;
    /**
     * Oldest release a running cluster may roll to this family from; older data must be migrated.
     * Undefined: any release of the same major.
     */
    readonly rollsFrom?: string;
}

const ALL_MODES: readonly DiscoveryMode[] = ["dns", "k8s", "static", "etcd", "manual"];
const NO_DNS_MODES: readonly DiscoveryMode[] = ["k8s", "static", "etcd", "manual"];
const A_RECORDS_ONLY =
    'it resolves DNS A records only, which give IP-based node names that change on every restart; use "k8s" or ' +
    '"static", or EMQX 4.4+';

export const VERSION_FAMILIES: readonly VersionFamily[] = [
    { name: "4.0-4.2", range: ">=4.0.0-0 <4.3.0-0", major: 4, tagPrefix: "v", discoveryModes: NO_DNS_MODES, discoveryLimit: A_RECORDS_ONLY, licenceRequiredForCluster: false },
    { name: "4.3", range: ">=4.3.0-0 <4.4.0-0", major: 4, tagPrefix: "", discoveryModes: NO_DNS_MODES, discoveryLimit: A_RECORDS_ONLY, licenceRequiredForCluster: false },
    { name: "4.4", range: ">=4.4.0-0 <5.0.0-0", major: 4, tagPrefix: "", discoveryModes: ALL_MODES, licenceRequiredForCluster: false },
    { name: "5.0-5.3", range: ">=5.0.0-0 <5.4.0-0", major: 5, tagPrefix: "", discoveryModes: ALL_MODES, licenceRequiredForCluster: false },
    { name: "5.4-5.8", range: ">=5.4.0-0 <5.9.0-0", major: 5, tagPrefix: "", discoveryModes: ALL_MODES, licenceRequiredForCluster: false },
    // Releases from 5.10 on cannot take over the data of 5.0-5.3 directly (EMQX's documented upgrade path).
    { name: "5.9+", range: ">=5.9.0-0 <6.0.0-0", major: 5, tagPrefix: "", discoveryModes: ALL_MODES, licenceRequiredForCluster: true, rollsFrom: "5.4.0" },
];

/** The first release with each behaviour that changed inside a family. */
const GATES = {
    /** `GET /status` on the dashboard port; earlier 5.0 releases serve it at `/api/v5/status`. */
    statusAtRoot: "5.0.5",
    /** `cluster.dns.record_type = aaaa`. */
    dnsAaaa: "5.6.0",
    /** `cluster.discovery_strategy = singleton`. */
    singleton: "5.8.0",
    /** Open-source images refuse `node.role = replicant` from here on. */
    noReplicantOpenSource: "5.8.0",
    /** Releases from 5.10 on take over data only from 5.4 or later. */
    strictUpgradePath: "5.10.0",
} as const;

/** Ports, HTTP paths and configuration paths of one release. */
export interface VersionSettings {
    /** Port and path of the health check EMQX answers once the node is up. */
    readonly healthPort: number;
    readonly healthPath: string;
    /** Port and path of the Prometheus scrape endpoint. */
    readonly prometheusPort: number;
    readonly prometheusPath: string;
    /** The 4.x management API port (`/api/v4`); undefined on 5.x, where the REST API is on the dashboard port. */
    readonly managementPort?: number;
    /** Configuration paths of the dashboard admin account, which EMQX reads on the first boot only. */
    readonly dashboardUsernamePath: string;
    readonly dashboardPasswordPath: string;
    /** Configuration path of the licence key, where the release takes one. */
    readonly licenseKeyPath?: string;
    /**
     * Environment values are parsed as HOCON (5.x): `#` or `//` starts a comment, so free-form values must be
     * quoted. 4.x (cuttlefish) takes them verbatim.
     */
    readonly parsesHocon: boolean;
    /** Where the dashboard manages client authentication. */
    readonly authenticationConsole: string;
}

/** A parsed, supported EMQX version and everything the component needs to know about it. */
export interface VersionProfile extends VersionSettings {
    /** The tag exactly as the image is pulled, e.g. `v4.2.14`, `5.8.9@sha256:...`. */
    readonly imageTag: string;
    /** The version without prefix or digest, e.g. `5.8`, `4.1.0-rc.1`. */
    readonly version: string;
    /** Comparable full version (`5.8` is treated as `5.8.0`). */
    readonly semver: semver.SemVer;
    readonly family: VersionFamily;
    readonly supportsDnsAaaa: boolean;
    readonly supportsSingleton: boolean;
    readonly supportsReplicantOpenSource: boolean;
    /** Orders releases: 50809 for 5.8.9. */
    readonly rank: number;
    /** Oldest release this version can take over a running cluster's data from (same major), and its rank. */
    readonly rollsFrom?: string;
    readonly rollsFromRank: number;
}

/** The tag forms EMQX publishes, for error messages. */
export const ACCEPTED_VERSION_FORMS = [
    "MAJOR.MINOR.PATCH (5.8.9, 4.4.19)",
    "MAJOR.MINOR (5.8, a floating tag)",
    "a v prefix (v4.2.14)",
    "a prerelease (v4.1-rc.1, 5.0.0-beta.3)",
    "any of these pinned to a digest (5.8.9@sha256:<64 hex digits>)",
];

const TAG_PATTERN = /^v?(\d+)\.(\d+)(?:\.(\d+))?(?:-((?:alpha|beta|rc)\.\d+))?(@sha256:[0-9a-f]{64})?$/;

/** Parses a version or image tag. Returns an error message naming the accepted forms when it is not supported. */
export function resolveVersion(input: string): VersionProfile | string {
    const match = TAG_PATTERN.exec(input.trim());
    if (!match) {
        return `version "${input}" is not an EMQX image tag; accepted forms: ${ACCEPTED_VERSION_FORMS.join("; ")}`;
    }
    const [, major, minor, patch, prerelease, digest] = match;
    const full = semver.parse(`${major}.${minor}.${patch ?? "0"}${prerelease ? `-${prerelease}` : ""}`);
    const family = full && VERSION_FAMILIES.find((f) => semver.satisfies(full, f.range, { includePrerelease: true }));
    if (!full || !family) {
        return (
            `version "${input}" is outside the supported releases (` +
            `${VERSION_FAMILIES.map((f) => f.name).join(", ")})`
        );
    }
    const version = `${major}.${minor}${patch !== undefined ? `.${patch}` : ""}${prerelease ? `-${prerelease}` : ""}`;
    const atLeast = (gate: string) => semver.gte(full, gate);
    const rollsFrom = atLeast(GATES.strictUpgradePath) ? family.rollsFrom : undefined;
    const settings: VersionSettings =
        family.major === 4
            ? {
                  healthPort: 8081,
                  healthPath: "/status",
                  managementPort: 8081,
                  prometheusPort: 8081,
                  prometheusPath: "/api/v4/emqx_prometheus?type=prometheus",
                  dashboardUsernamePath: "dashboard.default_user.login",
                  dashboardPasswordPath: "dashboard.default_user.password",
                  parsesHocon: false,
                  authenticationConsole: "the auth plugins (Plugins)",
              }
            : {
                  healthPort: 18083,
                  healthPath: atLeast(GATES.statusAtRoot) ? "/status" : "/api/v5/status",
                  prometheusPort: 18083,
                  prometheusPath: "/api/v5/prometheus/stats",
                  dashboardUsernamePath: "dashboard.default_username",
                  dashboardPasswordPath: "dashboard.default_password",
                  licenseKeyPath: "license.key",
                  parsesHocon: true,
                  authenticationConsole: "Access Control > Authentication",
              };
    return {
        ...settings,
        imageTag: `${family.tagPrefix}${version}${digest ?? ""}`,
        version,
        semver: full,
        family,
        supportsDnsAaaa: family.major === 5 && atLeast(GATES.dnsAaaa),
        supportsSingleton: family.major === 5 && atLeast(GATES.singleton),
        supportsReplicantOpenSource: family.major === 5 && !atLeast(GATES.noReplicantOpenSource),
        rank: rankOf(full),
        rollsFrom,
        rollsFromRank: rollsFrom ? rankOf(new semver.SemVer(rollsFrom)) : 0,
    };
}

function rankOf(version: semver.SemVer): number {
    return version.major * 10000 + version.minor * 100 + version.patch;
}

import * as semver from "semver";
import { DiscoveryMode } from "./args";
import { CLUSTER_PORTS, DASHBOARD_TLS_PORT, LISTENER_PORTS, MQTT_LISTENER_TYPES, STATELESS_RPC_PORT } from "./ports";

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
    { name: "5.9+", range: ">=5.9.0-0 <6.0.0-0", major: 5, tagPrefix: "", discoveryModes: ALL_MODES, licenceRequiredForCluster: true },
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
    /**
     * `rpc.listen_address` and `rpc.ipv6_only`: cluster RPC (gen_rpc) over IPv6 (emqx#11715, fixed by emqx#11734
     * in 5.3.1). Earlier 5.x and every 4.x release listen and connect for cluster RPC on IPv4 only.
     */
    ipv6ClusterRpc: "5.3.1",
    /**
     * `cluster.autoclean` takes effect: 5.0.x map it to the `ekka` application, which stopped reading it when its
     * membership code moved to `mria` (emqx#11070, fixed in 5.1.0).
     */
    autocleanTakesEffect: "5.1.0",
    /** `/api/v5/prometheus/stats` answers without credentials (5.0.0 asked for them, emqx a9ec193ef8). */
    openMetrics5: "5.0.1",
    /** `prometheus.enable_basic_auth` (default false) can put the metrics endpoint behind API-key auth again. */
    metricsAuthSetting: "5.4.0",
    /** `GET /api/v4/emqx_prometheus` answers without an application's credentials (emqx 639006e302), per 4.x minor. */
    openMetrics43: "4.3.22",
    openMetrics44: "4.4.11",
    /** The images' default plugin list has `emqx_telemetry` (emqx-rel `data/loaded_plugins.tmpl`). */
    telemetryPlugin: "4.2.0",
    /** The entrypoint merges `EMQX_LOADED_PLUGINS` into `data/loaded_plugins` instead of overwriting it. */
    mergedPluginList: "4.2.4",
    /**
     * The dashboard's HTTPS listener takes its files under `dashboard.listeners.https.ssl_options`; 5.0.x and 5.1.0
     * take them directly under `dashboard.listeners.https` (emqx_dashboard_schema.erl at tags v5.1.0 and v5.1.1).
     */
    dashboardSslOptions: "5.1.1",
    /**
     * `bootstrap_file` / `bootstrap_type` of the built-in database authenticator: users imported from a CSV or JSON
     * file when the authenticator starts (emqx/emqx 5265c3cc1f, first tagged in v5.7.2).
     */
    authnBootstrapFile: "5.7.2",
} as const;

/** Whether the Prometheus endpoint asks a scraper for credentials, and which. */
export interface MetricsAuth {
    /**
     * `always`: every scrape needs HTTP basic auth; `never`; `setting`: only when the EMQX setting `setting` is
     * `true` (through `emqxConfig`).
     */
    readonly required: "always" | "never" | "setting";
    readonly setting?: string;
    /** What the user name and password of the basic auth are on this release. */
    readonly credentials: string;
}

/** The plugin that serves the metrics on 4.x, and how the image loads it. */
export interface MetricsPlugin {
    readonly name: string;
    /**
     * The plugins the image loads by default (its `data/loaded_plugins`), which `EMQX_LOADED_PLUGINS` must repeat:
     * on an empty data volume the entrypoint writes a plugin list of only the ones named there.
     */
    readonly defaultPlugins: readonly string[];
    /** The entrypoint rewrites the whole plugin list on every start (before 4.2.4), dropping plugins loaded later. */
    readonly rewritesPluginList: boolean;
}
/**
 * Releases whose cluster RPC listens on gen_rpc's stateless port (5370): 4.2 made `rpc.port_discovery = stateless`
 * the default (etc/emqx.conf of emqx/emqx v4.2.0, gen_rpc 2.5.0 `DEFAULT_LISTEN_PORT`), and its image's
 * entrypoint (emqx/emqx-rel v4.2.x) does not set `EMQX_RPC__PORT_DISCOVERY=manual` as 4.3+ and 5.x do; 4.0 and 4.1
 * set `rpc.tcp_server_port = 5369`.
 */
const STATELESS_RPC_RELEASES = ">=4.2.0-0 <4.3.0-0";

/**
 * Why the root filesystem stays writable on 4.x (docs/emqx-facts.md, "What EMQX writes"): 4.0-4.2's entrypoint
 * rewrites etc/emqx.conf and etc/plugins/*.conf with every EMQX_* value; 4.3 and 4.4's writes a file named
 * `tmpfile` into its working directory, /opt/emqx, whenever EMQX_LOADED_PLUGINS or EMQX_LOADED_MODULES is set (how
 * 4.x loads plugins such as emqx_prometheus from the environment).
 */
const WRITABLE_ROOT_4X =
    "the 4.x images write into /opt/emqx outside the data and log volumes before EMQX starts (4.0-4.2's entrypoint " +
    "rewrites etc/emqx.conf with every EMQX_* value; 4.3-4.4's writes /opt/emqx/tmpfile when plugins or modules are " +
    "loaded from the environment)";

/** Running releases a release cannot roll onto: ranks `fromRank` up to (not including) `belowRank`. */
export interface RefusedSource {
    readonly fromRank: number;
    readonly belowRank: number;
    /** Why, as EMQX documents it. */
    readonly reason: string;
}

/**
 * Rolling upgrades EMQX does not support inside a major, by target release. Not listed here and refused by the
 * change guard for every family: a change of major, and any move to an older minor release (EMQX documents
 * upgrades only; its 5.x matrix has no downgrade column, 4.x names 4.3 -> 4.4 as its only cross-minor roll).
 * Patch changes inside a minor are allowed both ways (4.x appups carry upgrade and downgrade steps per patch,
 * the 5.x matrix marks each minor compatible with itself). Sources: docs/emqx-facts.md, "Rolling upgrades".
 */
const ROLLING_UPGRADE_LIMITS: readonly {
    readonly to: string;
    readonly refused: readonly { readonly from: string; readonly below: string; readonly reason: string }[];
    readonly dataCreatedSince?: string;
}[] = (() => {
    const noCrossMinor4 =
        "EMQX documents no rolling upgrade between 4.0, 4.1 and 4.2 (its only cross-minor rolling upgrade in 4.x is " +
        "4.3 -> 4.4; hot upgrades are between patch releases only)";
    const schema43 =
        "EMQX 4.3 changed the database schema and the inter-node API: a 4.3 node cannot join a 4.2 cluster " +
        "(EMQX's 4.2 -> 4.3 upgrade guide)";
    const routingV1 =
        "EMQX 5.10 keeps only the v2 routing schema, and clusters started before 5.4 still use v1: EMQX does not " +
        "support rolling them to 5.10 or later (its rolling-upgrade matrix, note 2)";
    const otelHeaders =
        "5.8.7 added OpenTelemetry header settings that 5.9.0 and 5.10.0 do not know (EMQX's rolling-upgrade matrix, " +
        "note 3); roll to 5.9.1 or 5.10.1 instead";
    return [
        { to: ">=4.1.0-0 <4.2.0-0", refused: [{ from: "4.0.0", below: "4.1.0", reason: noCrossMinor4 }] },
        { to: ">=4.2.0-0 <4.3.0-0", refused: [{ from: "4.0.0", below: "4.2.0", reason: noCrossMinor4 }] },
        { to: ">=4.3.0-0 <5.0.0-0", refused: [{ from: "4.0.0", below: "4.3.0", reason: schema43 }] },
        { to: ">=5.9.0-0 <5.9.1-0", refused: [{ from: "5.8.7", below: "5.9.0", reason: otelHeaders }] },
        {
            to: ">=5.10.0-0 <5.10.1-0",
            refused: [
                { from: "5.0.0", below: "5.4.0", reason: routingV1 },
                { from: "5.8.7", below: "5.9.0", reason: otelHeaders },
            ],
            dataCreatedSince: "5.4.0",
        },
        { to: ">=5.10.1-0 <6.0.0-0", refused: [{ from: "5.0.0", below: "5.4.0", reason: routingV1 }], dataCreatedSince: "5.4.0" },
    ];
})();

// Values are HOCON: addresses with ':' or brackets are quoted strings.
const IPV6_SETTINGS_5X: Readonly<Record<string, string>> = {
    "cluster.proto_dist": "inet6_tcp",
    "rpc.listen_address": JSON.stringify("::"),
    "rpc.ipv6_only": "true",
    ...Object.fromEntries(
        LISTENER_PORTS.map((l) => [
            `listeners.${MQTT_LISTENER_TYPES[l.name]}.default.bind`,
            JSON.stringify(`[::]:${l.port}`),
        ]),
    ),
    // A port-only bind plus inet6 listens on every IPv6 address (and IPv4-mapped ones) in every 5.x release.
    "dashboard.listeners.http.inet6": "true",
};

/**
 * The 4.x dashboard's HTTPS listener: `dashboard.listener.https = 18084` and its files under the same path
 * (`emqx_dashboard.conf` and `.schema` at tags v4.3.x, v4.4.x). The 4.0-4.2 images write settings into the
 * configuration files with their entrypoint, which only replaces keys the files already hold; the dashboard's
 * file there comes from a separate plugin repository whose HTTPS keys could not be checked for each release.
 */
function dashboardTls4(family: VersionFamily): Pick<VersionSettings, "dashboardTls" | "dashboardTlsLimit"> {
    return family.name === "4.0-4.2"
        ? {
              dashboardTlsLimit:
                  "the 4.0-4.2 images' entrypoint only rewrites settings their configuration files already hold, and " +
                  "which HTTPS keys the dashboard plugin's file holds in each of these releases is not established; " +
                  "use EMQX 4.3 or later for tls.dashboard, or reach the dashboard through kubectl port-forward",
          }
        : { dashboardTls: { enable: { "dashboard.listener.https": String(DASHBOARD_TLS_PORT) }, filePath: "dashboard.listener.https" } };
}

/**
 * What 5.x writes outside its data and log directories (docs/emqx-facts.md, "What EMQX writes"): `bin/emqx`
 * generates its configs under data/configs and logs under log/; `mktemp -dp /tmp` (relup packages), and plugin
 * packages installed at run time go to `plugins.install_dir`, /opt/emqx/plugins, which the image ships empty.
 */
const WRITABLE_PATHS_5X: Readonly<Record<string, string>> = { tmp: "/tmp", plugins: "/opt/emqx/plugins" };

const IPV6_CLUSTER_RPC_LIMIT =
    "cluster RPC (gen_rpc) listens and connects over IPv4 only before EMQX 5.3.1, which added rpc.listen_address " +
    "and rpc.ipv6_only (emqx#11715, emqx#11734), so nodes on an IPv6-only network never exchange messages";

const AUTOCLEAN_IGNORED_5_0 =
    `EMQX 5.0.x ignore cluster.autoclean (they hand it to ekka, which no longer reads it; emqx#11070, fixed in ` +
    `${GATES.autocleanTakesEffect}), so a removed node stays listed as stopped until "emqx ctl cluster force-leave ` +
    `<node>" is run on a remaining node; use EMQX ${GATES.autocleanTakesEffect} or later to have it removed on its own`;

/** A character class or shape of value an entrypoint changes, and how. */
export interface MangledValue {
    readonly pattern: RegExp;
    readonly what: string;
}

/**
 * What the docker entrypoint of a range of releases does to `EMQX_*` values: the 4.0-4.2 images write each value
 * into `etc/emqx.conf` or `etc/plugins/*.conf` with `sed` before EMQX starts (4.3+ read them through cuttlefish's
 * environment override, verbatim; 5.x parse them as HOCON, handled by `parsesHocon`).
 */
export interface EntrypointMangling {
    /** semver range of the releases whose image has this entrypoint. */
    readonly releases: string;
    /** Where the script is: `emqx/emqx-rel`, `deploy/docker/docker-entrypoint.sh` at these tags. */
    readonly source: string;
    readonly mangled: readonly MangledValue[];
}

const EMPTY_VALUE: MangledValue = {
    pattern: /^$/,
    what: "an empty value (commented out from 4.1 on, so EMQX uses its default; written empty on 4.0)",
};
const ECHO_OPTION: MangledValue = {
    pattern: /^-[neE]+(\s|$)/,
    what: "a leading -n, -e or -E (read by echo as an option)",
};

export const ENTRYPOINT_MANGLING: readonly EntrypointMangling[] = [
    {
        releases: ">=4.0.0-0 <4.2.4",
        source: "emqx/emqx-rel deploy/docker/docker-entrypoint.sh, v4.0.0 to v4.2.3",
        mangled: [
            {
                pattern: /[&\\]/,
                what: "'&' or '\\' (the value becomes a sed replacement that escapes only '/': '&' inserts the matched line, '\\' starts an escape; emqx#3781)",
            },
            { pattern: /[*?[]/, what: "'*', '?' or '[' (the value is expanded unquoted, as a file name pattern)" },
            {
                pattern: /^\s|\s$|\s\s|[^\S ]/,
                what: "leading, trailing, repeated or non-space whitespace (the unquoted expansion rejoins words with single spaces)",
            },
            ECHO_OPTION,
            EMPTY_VALUE,
        ],
    },
    {
        releases: ">=4.2.4 <4.3.0-0",
        source: "emqx/emqx-rel deploy/docker/docker-entrypoint.sh, v4.2.4 to v4.2.14",
        mangled: [
            { pattern: /\\/, what: "'\\' (the sed replacement escapes '/' and '&' but not '\\', which starts an escape)" },
            { pattern: /[\p{Cc}]/u, what: "control characters such as tab or newline (deleted with tr -d '[:cntrl:]')" },
            ECHO_OPTION,
            EMPTY_VALUE,
        ],
    },
];

/**
 * How a release authenticates MQTT clients against its built-in database, configured through settings only.
 * - `hocon` (5.x): an `authentication` authenticator `password_based` / `built_in_database`; `bootstrapFile`: it
 *   imports users from a mounted file (`bootstrap_file`, `bootstrap_type = plain`) when it starts, from 5.7.2.
 * - `plugin` (4.3, 4.4): the `emqx_auth_mnesia` plugin (loaded with `EMQX_LOADED_PLUGINS`), users as numbered
 *   settings `auth.user.<n>.username` / `auth.user.<n>.password`, inserted when the plugin starts, and
 *   `allow_anonymous = false`.
 * - `none`: no way this component can rely on; `reason` says why.
 */
export type ClientAuthSupport =
    | { readonly kind: "hocon"; readonly bootstrapFile: boolean }
    | { readonly kind: "plugin" }
    | { readonly kind: "none"; readonly reason: string };

const NO_CLIENT_AUTH_4_0_TO_4_2 =
    "EMQX 4.0-4.2 images cannot be given built-in database users through settings this component can rely on: 4.0 " +
    "ships emqx_auth_username instead of emqx_auth_mnesia, the emqx_auth_mnesia plugin of 4.1-4.2 changed its user " +
    "settings between releases (auth.mnesia.<n>.login in some, none in others), and the image entrypoint writes only " +
    "settings whose line exists in its configuration files; use EMQX 4.3 or later, or set " +
    "authentication.allowAnonymous: true and load an auth plugin yourself";

/**
 * The 4.0-4.2 images print `<setting>=<value>` for every `EMQX_*` variable to the container log as their
 * entrypoint fills the configuration files (emqx/emqx-rel deploy/docker/docker-entrypoint.sh): up to v4.1.0
 * every value; from v4.1.1 (`echo_value`) a setting whose name has the word `password`, `passwd`, `key`,
 * `token` or `secret` is printed as `***secret***`.
 */
export interface EntrypointLogging {
    readonly releases: string;
    /** Settings whose value the entrypoint masks; undefined: it masks none. */
    readonly masked?: RegExp;
}

export const ENTRYPOINT_LOGGING: readonly EntrypointLogging[] = [
    { releases: ">=4.0.0-0 <4.1.1" },
    { releases: ">=4.1.1 <4.3.0-0", masked: /(^|[^A-Za-z0-9_])(password|passwd|key|token|secret)([^A-Za-z0-9_]|$)/i },
];

/** Ports, HTTP paths and configuration paths of one release. */
export interface VersionSettings {
    /** Port and path of the health check EMQX answers once the node is up. */
    readonly healthPort: number;
    readonly healthPath: string;
    /** Port and path of the Prometheus scrape endpoint. */
    readonly prometheusPort: number;
    readonly prometheusPath: string;
    /** Who may scrape the Prometheus endpoint. */
    readonly metricsAuth: MetricsAuth;
    /** The plugin that must be loaded for the Prometheus endpoint to exist (4.x); undefined when EMQX always serves it. */
    readonly metricsPlugin?: MetricsPlugin;
    /**
     * Ports the nodes talk to each other on: the Erlang distribution and cluster RPC. Only the cluster's own pods
     * need them (the NetworkPolicy opens them to those alone).
     */
    readonly clusterPorts: { readonly distribution: number; readonly rpc: number };
    /**
     * The image runs with a read-only root filesystem, given emptyDirs on `writablePaths` besides the data and log
     * volumes. Undefined: it cannot, and `writableRootReason` says why.
     */
    readonly readOnlyRoot?: { readonly writablePaths: Readonly<Record<string, string>> };
    /** Why the root filesystem stays writable on this release; undefined when `readOnlyRoot` is set. */
    readonly writableRootReason?: string;
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
    /** How clients are authenticated against the built-in database through settings (see `ClientAuthSupport`). */
    readonly clientAuth: ClientAuthSupport;
    /**
     * 4.x: configuration paths of the management API's default application (`admin` / `public` in EMQX's
     * defaults), which EMQX adds on start when no application of that id exists (`emqx_mgmt_auth:add_default_app`).
     */
    readonly managementAppPaths?: { readonly id: string; readonly secret: string };
    /**
     * Settings that move the Erlang distribution, cluster RPC, the MQTT listeners and the dashboard to IPv6, as EMQX's
     * IPv6 guide gives them (listeners bound to `[::]` accept IPv4-mapped clients too); undefined where the release
     * cannot run on an IPv6-only network (`ipv6Limit`).
     */
    readonly ipv6Settings?: Readonly<Record<string, string>>;
    /**
     * How long a stopped node stays a member before the remaining nodes remove it (`cluster.autoclean`, a duration
     * such as `5m`), when `autoclean` is not given. 4.x: `5m`, EMQX's own default (`etc/emqx.conf`), checked every
     * quarter of it (ekka). 5.1+: `1h`, where EMQX's default is `24h` (`emqx_conf_schema`; mria checks every
     * quarter of it, every 2-4 s from mria 0.8.19): long enough for restarts, drains and node reboots, short
     * enough that `emqx ctl cluster status` is clean within about an hour of a scale-down. Undefined where the
     * setting takes no effect (`autocleanLimit`).
     */
    readonly autocleanDefault?: string;
    /** Why `cluster.autoclean` does nothing on this release, and what to do instead; undefined where it works. */
    readonly autocleanLimit?: string;
    /**
     * Where the TLS listeners take their certificate files: the configuration path that `.certfile`, `.keyfile` and
     * `.cacertfile` complete, per MQTT listener (4.x `etc/emqx.conf`, 5.x `emqx_schema.erl`, every tag of the family).
     */
    readonly tlsFilePaths: { readonly mqtts: string; readonly wss: string };
    /**
     * The dashboard's HTTPS listener (18084): the settings that turn it on and the path its files complete; undefined
     * where the component cannot turn it on (`dashboardTlsLimit` says why).
     */
    readonly dashboardTls?: { readonly enable: Readonly<Record<string, string>>; readonly filePath: string };
    readonly dashboardTlsLimit?: string;
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
    /** Orders releases: 50809 for 5.8.9; a floating tag such as `5.8` counts as the newest patch, 50899. */
    readonly rank: number;
    /** Running releases this one cannot roll onto, with EMQX's reason (see `ROLLING_UPGRADE_LIMITS`). */
    readonly refusedSources: readonly RefusedSource[];
    /**
     * The oldest release whose data this one can take over through every later rolling upgrade, as a rank; 0 for
     * any. 5.10+ needs a cluster whose data was created on 5.4 or later (the v2 routing schema).
     */
    readonly dataCreatedSinceRank: number;
    /** What keeps this release from running on an IPv6-only cluster network; undefined when it can. */
    readonly ipv6Limit?: string;
    /** What the image's entrypoint does to environment values before EMQX reads them; undefined: nothing. */
    readonly entrypoint?: EntrypointMangling;
    /** What the image's entrypoint prints of environment values; undefined: nothing. */
    readonly entrypointLogging?: EntrypointLogging;
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
    const rollingLimit = ROLLING_UPGRADE_LIMITS.find((l) => semver.satisfies(full, l.to, { includePrerelease: true }));
    const settings: VersionSettings =
        family.major === 4
            ? {
                  healthPort: 8081,
                  healthPath: "/status",
                  managementPort: 8081,
                  prometheusPort: 8081,
                  // Without `type=prometheus` the plugin answers JSON.
                  prometheusPath: "/api/v4/emqx_prometheus?type=prometheus",
                  metricsAuth: metricsAuth4(family.name, atLeast),
                  metricsPlugin: {
                      name: "emqx_prometheus",
                      defaultPlugins: [
                          ...DEFAULT_PLUGINS_4X,
                          ...(atLeast(GATES.telemetryPlugin) ? ["emqx_telemetry"] : []),
                      ],
                      rewritesPluginList: !atLeast(GATES.mergedPluginList),
                  },
                  dashboardUsernamePath: "dashboard.default_user.login",
                  dashboardPasswordPath: "dashboard.default_user.password",
                  parsesHocon: false,
                  authenticationConsole: "the auth plugins (Plugins)",
                  autocleanDefault: "5m",
                  tlsFilePaths: { mqtts: "listener.ssl.external", wss: "listener.wss.external" },
                  ...dashboardTls4(family),
                  clientAuth: atLeast("4.3.0-0") ? { kind: "plugin" } : { kind: "none", reason: NO_CLIENT_AUTH_4_0_TO_4_2 },
                  managementAppPaths: { id: "management.default_application.id", secret: "management.default_application.secret" },
                  clusterPorts: {
                      distribution: CLUSTER_PORTS.ekka,
                      rpc: semver.satisfies(full, STATELESS_RPC_RELEASES, { includePrerelease: true }) ? STATELESS_RPC_PORT : CLUSTER_PORTS.genrpc,
                  },
                  writableRootReason: WRITABLE_ROOT_4X,
              }
            : {
                  healthPort: 18083,
                  healthPath: atLeast(GATES.statusAtRoot) ? "/status" : "/api/v5/status",
                  prometheusPort: 18083,
                  prometheusPath: "/api/v5/prometheus/stats",
                  metricsAuth: !atLeast(GATES.openMetrics5)
                      ? { required: "always", credentials: API_KEY_OR_DASHBOARD_USER }
                      : atLeast(GATES.metricsAuthSetting)
                        ? { required: "setting", setting: "prometheus.enable_basic_auth", credentials: API_KEY }
                        : { required: "never", credentials: API_KEY },
                  dashboardUsernamePath: "dashboard.default_username",
                  dashboardPasswordPath: "dashboard.default_password",
                  licenseKeyPath: "license.key",
                  parsesHocon: true,
                  authenticationConsole: "Access Control > Authentication",
                  clientAuth: { kind: "hocon", bootstrapFile: atLeast(GATES.authnBootstrapFile) },
                  ipv6Settings: atLeast(GATES.ipv6ClusterRpc) ? IPV6_SETTINGS_5X : undefined,
                  ...(atLeast(GATES.autocleanTakesEffect)
                      ? { autocleanDefault: "1h" }
                      : { autocleanLimit: AUTOCLEAN_IGNORED_5_0 }),
                  tlsFilePaths: { mqtts: "listeners.ssl.default.ssl_options", wss: "listeners.wss.default.ssl_options" },
                  dashboardTls: {
                      enable: { "dashboard.listeners.https.enable": "true", "dashboard.listeners.https.bind": String(DASHBOARD_TLS_PORT) },
                      filePath: atLeast(GATES.dashboardSslOptions) ? "dashboard.listeners.https.ssl_options" : "dashboard.listeners.https",
                  },
                  clusterPorts: { distribution: CLUSTER_PORTS.ekka, rpc: CLUSTER_PORTS.genrpc },
                  readOnlyRoot: { writablePaths: WRITABLE_PATHS_5X },
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
        // A floating tag (`5.8`) moves to each new patch release: rank it as the newest, so that rules about late
        // patch releases (5.8.7+) apply to it.
        rank: patch === undefined ? rankOf(full) + FLOATING_PATCH : rankOf(full),
        refusedSources: (rollingLimit?.refused ?? []).map(({ from, below, reason }) => ({
            fromRank: rankOf(new semver.SemVer(from)),
            belowRank: rankOf(new semver.SemVer(below)),
            reason,
        })),
        dataCreatedSinceRank: rollingLimit?.dataCreatedSince ? rankOf(new semver.SemVer(rollingLimit.dataCreatedSince)) : 0,
        ipv6Limit:
            family.major === 5 && atLeast(GATES.ipv6ClusterRpc)
                ? undefined
                : `${IPV6_CLUSTER_RPC_LIMIT}; use EMQX ${GATES.ipv6ClusterRpc} or later`,
        entrypoint: ENTRYPOINT_MANGLING.find((e) => semver.satisfies(full, e.releases, { includePrerelease: true })),
        entrypointLogging: ENTRYPOINT_LOGGING.find((e) => semver.satisfies(full, e.releases, { includePrerelease: true })),
    };
}

/** The plugins every 4.x open-source image loads by default (emqx-rel and emqx `data/loaded_plugins.tmpl`, cloud release). */
const DEFAULT_PLUGINS_4X = ["emqx_management", "emqx_dashboard", "emqx_recon", "emqx_retainer", "emqx_rule_engine"];

const API_KEY = "an API key: its key as the user name and its secret as the password (Dashboard > System > API Key)";
const API_KEY_OR_DASHBOARD_USER = `${API_KEY}, or a dashboard user and password`;
const MANAGEMENT_APP =
    "a management application's AppID and AppSecret (the default application is management.default_application.id/secret, admin/public)";

function metricsAuth4(family: string, atLeast: (gate: string) => boolean): MetricsAuth {
    const open = (family === "4.3" && atLeast(GATES.openMetrics43)) || (family === "4.4" && atLeast(GATES.openMetrics44));
    return { required: open ? "never" : "always", credentials: MANAGEMENT_APP };
}

const FLOATING_PATCH = 99;

function rankOf(version: semver.SemVer): number {
    return version.major * 10000 + version.minor * 100 + version.patch;
}

import type { RefusedSource } from "./versions";

/**
 * What a running cluster must keep across an update, and the rules that refuse unsafe changes. The change
 * guard stores this state and applies the rules at preview time, before Kubernetes is touched.
 *
 * This module imports nothing at run time: the guard's provider, and with it these functions, is serialized into
 * the stack. Everything a rule needs (version ranks, which releases cannot roll onto which, node names) is plain
 * data the plan computes from the version table. Fields added after the first release are optional: a stack
 * deployed before them has a stored state without them, and the rules treat a missing field as "not known".
 */
export interface ChangeGuardState {
    readonly clusterName: string;
    readonly namespace: string;
    readonly version: string;
    readonly major: number;
    /** e.g. 50809 for 5.8.9. */
    readonly versionRank: number;
    /** Running releases this version cannot roll onto, with EMQX's reason (from the version table). */
    readonly refusedSources?: readonly RefusedSource[];
    /** The oldest release the cluster's data may have been created on for this version to take it over; 0: any. */
    readonly dataCreatedSinceRank?: number;
    /**
     * Rank of the release that first wrote the current volumes' data. Not planned: the guard carries it from the
     * stored state (`carriedState`), and a new cluster or volume generation starts it at its own version.
     */
    readonly dataCreatedRank?: number;
    readonly persistence: boolean;
    /** "" for the cluster's default StorageClass (or, with `noDynamicProvisioning`, Kubernetes' empty class). */
    readonly storageClass: string;
    /** storageClass was given as "": the claims bind only pre-provisioned PersistentVolumes without a class. */
    readonly noDynamicProvisioning?: boolean;
    readonly storageSize: string;
    readonly storageBytes: number;
    readonly volumeGeneration: number;
    /** The cluster's DNS domain, which every node name ends with. */
    readonly clusterDomain?: string;
    /** Node name of ordinal 0, e.g. `emqx@emqx-0.emqx-headless.default.svc.cluster.local`. */
    readonly firstNodeName?: string;
    /** IP family of the Services and of EMQX's listeners: `IPv4` (also when missing) or `IPv6`. */
    readonly ipFamily?: string;
    /**
     * Whether MQTT clients may connect without credentials. Missing in the state of a cluster deployed before
     * client authentication existed, which accepted anonymous clients: the rules treat missing as `true`.
     */
    readonly allowAnonymous?: boolean;
}

/**
 * One refused change. `change` is a stable identifier of the kind of change (the arg it concerns, e.g. `version`,
 * `storageClass`), the name a user gives to acknowledge it; `reason` says why it is refused and the way forward.
 */
export interface Refusal {
    readonly change: string;
    readonly reason: string;
}

function versionOfRank(rank: number): string {
    return `${Math.floor(rank / 10000)}.${Math.floor(rank / 100) % 100}.${rank % 100}`;
}

function describeStorageClass(state: ChangeGuardState): string {
    if (state.noDynamicProvisioning) {
        return '"" (no dynamic provisioning)';
    }
    return `"${state.storageClass || "(cluster default)"}"`;
}

/** Whether `next` keeps running on the volumes `old` wrote: same cluster, same volume generation. */
function sameVolumes(old: ChangeGuardState | undefined, next: ChangeGuardState): old is ChangeGuardState {
    return (
        old !== undefined &&
        old.clusterName === next.clusterName &&
        old.namespace === next.namespace &&
        old.volumeGeneration === next.volumeGeneration
    );
}

/**
 * `next` with what the guard remembers across updates filled in from `old`: the release that created the data on
 * the current volumes. The guard's check stores its result, so the history survives any number of updates.
 */
export function carriedState(old: ChangeGuardState | undefined, next: ChangeGuardState): ChangeGuardState {
    const dataCreatedRank = sameVolumes(old, next) ? (old.dataCreatedRank ?? old.versionRank) : next.versionRank;
    return { ...next, dataCreatedRank };
}

/**
 * Returns why moving a running cluster from `old` to `next` would lose data or fail half-way; empty when the
 * change is safe. `old` is undefined for a new cluster.
 */
export function unsafeChanges(old: ChangeGuardState | undefined, next: ChangeGuardState): Refusal[] {
    if (!old || old.clusterName !== next.clusterName || old.namespace !== next.namespace) {
        // A new cluster, or a new name or namespace: new objects and new volumes, nothing is taken over.
        return [];
    }
    const reasons: Refusal[] = [];
    const refuse = (change: string, reason: string) => reasons.push({ change, reason: `${change}: ${reason}` });
    const nextGeneration = old.volumeGeneration + 1;
    const newVolumes =
        `bump volumeGeneration (to ${nextGeneration}) to start a new StatefulSet on new, empty volumes; the Services ` +
        `move to it and the old StatefulSet is deleted, its claims kept until you delete them`;

    const oldFamily = old.ipFamily ?? "IPv4";
    const nextFamily = next.ipFamily ?? "IPv4";
    if (oldFamily !== nextFamily) {
        // The Services are shared by every volume generation, so a new generation does not help here.
        refuse(
            "ipFamily",
            `${oldFamily} -> ${nextFamily}: Kubernetes refuses to change a Service's primary IP family, and EMQX ` +
                `documents no rolling change of its cluster protocol (cluster.proto_dist, emqx#11734); deploy a new ` +
                `cluster (another clusterName) on the new family and move the clients`,
        );
    }

    if (old.allowAnonymous !== false && next.allowAnonymous === false) {
        // Clients connect to the Services, which every volume generation shares: a new generation does not help.
        refuse(
            "allowAnonymous",
            `this cluster accepts MQTT clients without credentials, and this update turns that off: every client ` +
                `that connects without a user name and password would be refused from the next pod restart on. Set ` +
                `authentication: { allowAnonymous: true } to keep accepting them, or give the clients credentials ` +
                `first (the mqttUsername and mqttPassword outputs, or your users Secret)`,
        );
    }

    if (next.volumeGeneration < old.volumeGeneration) {
        refuse(
            "volumeGeneration",
            `${old.volumeGeneration} -> ${next.volumeGeneration} would bring back older volumes ` +
                `under the running cluster; generations only go up`,
        );
    }
    if (next.volumeGeneration > old.volumeGeneration) {
        // New, empty volumes: a new cluster that takes nothing over.
        return reasons;
    }

    const migrate =
        `export the data first (kubectl exec <pod> -- emqx ctl data export; emqx_ctl on 4.x; then kubectl cp the ` +
        `file out), ${newVolumes}, and import the file into the new cluster (emqx ctl data import); or deploy the ` +
        `new version as a second cluster (another clusterName) and move the clients`;
    const minor = (rank: number) => Math.floor(rank / 100);
    if (old.versionRank !== next.versionRank) {
        const source = next.refusedSources?.find((s) => old.versionRank >= s.fromRank && old.versionRank < s.belowRank);
        const createdRank = old.dataCreatedRank ?? old.versionRank;
        if (old.major !== next.major) {
            refuse(
                "version",
                `EMQX ${old.version} -> ${next.version} is not a rolling upgrade: 4.x and 5.x differ in data format, ` +
                    `configuration and cluster API (EMQX's 4.4 -> 5.x upgrade guide); ${migrate}`,
            );
        } else if (minor(next.versionRank) < minor(old.versionRank)) {
            refuse(
                "version",
                `EMQX ${old.version} -> ${next.version} goes back to an older minor release, which EMQX does not ` +
                    `support on a running cluster (its upgrade paths only go up; data written by the newer release ` +
                    `may not load); stay on ${versionOfRank(minor(old.versionRank) * 100).replace(/\.0$/, "")}.x, or ${migrate}`,
            );
        } else if (source) {
            refuse("version", `EMQX ${old.version} -> ${next.version}: ${source.reason}; ${migrate}`);
        } else if (next.dataCreatedSinceRank && createdRank < next.dataCreatedSinceRank) {
            refuse(
                "version",
                `EMQX ${next.version} cannot take over this cluster's data, created on ${versionOfRank(createdRank)}: ` +
                    `it needs data created on ${versionOfRank(next.dataCreatedSinceRank)} or later (clusters started ` +
                    `earlier keep the v1 routing schema, which 5.10+ dropped; EMQX's rolling-upgrade matrix, note 2); ` +
                    `${migrate}`,
            );
        }
    }

    // Only on the same volumes: a lowered generation is refused above, and its pods have other names anyway.
    if (
        old.volumeGeneration === next.volumeGeneration &&
        old.firstNodeName !== undefined &&
        next.firstNodeName !== undefined &&
        old.firstNodeName !== next.firstNodeName
    ) {
        const domainChanged = old.clusterDomain !== undefined && old.clusterDomain !== next.clusterDomain;
        refuse(
            domainChanged ? "clusterDomain" : "nodeName",
            `${domainChanged ? `${old.clusterDomain} -> ${next.clusterDomain} ` : ""}renames every node on its old ` +
                `volume (${old.firstNodeName} -> ${next.firstNodeName}): EMQX keeps a node's data under ` +
                `data/mnesia/<node name>, so the data would be orphaned and the renamed nodes could form a second ` +
                `cluster; ${newVolumes} (export and import the data as for a version change)`,
        );
    }

    if (old.persistence !== next.persistence) {
        refuse("persistence", `${old.persistence} -> ${next.persistence} changes where every node keeps its data; ${newVolumes}`);
    } else if (next.persistence && describeStorageClass(old) !== describeStorageClass(next)) {
        refuse(
            "storageClass",
            `${describeStorageClass(old)} -> ${describeStorageClass(next)} cannot apply to existing volumes; ${newVolumes}`,
        );
    } else if (next.persistence && next.storageBytes < old.storageBytes) {
        refuse("storageSize", `${old.storageSize} -> ${next.storageSize} would shrink volumes, which Kubernetes refuses; ${newVolumes}`);
    }
    return reasons;
}

/** What the change guard keeps in the stack state. */
export interface GuardRecord {
    /** What the cluster was last deployed with (or is being deployed with, if that update failed). */
    readonly state: ChangeGuardState;
    /**
     * What it was deployed with before the last change of `state`. An update that failed half-way leaves the
     * cluster there, so changes that are safe from it (a revert above all) are accepted.
     */
    readonly previous?: ChangeGuardState;
}

/** What the component hands the guard on every run. */
export interface GuardRequest {
    readonly state: ChangeGuardState;
    /** Kinds of change the user acknowledged (`acknowledgedChanges`): not refused. */
    readonly acknowledged: readonly string[];
}

/** JSON with every object's keys sorted: the stored state comes back from the engine in another key order. */
function canonical(value: unknown): string {
    return JSON.stringify(value, (_key, v: unknown) =>
        v !== null && typeof v === "object" && !Array.isArray(v)
            ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
            : v,
    );
}

/** Whether two records hold the same values, whatever the order of their keys. */
export function sameRecord(a: unknown, b: unknown): boolean {
    return canonical(a) === canonical(b);
}

function sameState(a: ChangeGuardState | undefined, b: ChangeGuardState | undefined): boolean {
    return sameRecord(a, b);
}

/**
 * The guard's decision on an update from the `recorded` run to the `requested` one: the refusals left after the
 * acknowledged kinds and the reverts are taken out, each as the text the user sees (the reason, the way forward
 * and the override), and the record to keep when the update goes ahead.
 */
export function reviewChange(
    recorded: Partial<GuardRecord> | undefined,
    requested: GuardRequest,
): { refusals: string[]; record: GuardRecord } {
    const old = recorded?.state;
    const previous = recorded?.previous;
    // A kind refused from the recorded state is still fine if it is safe from the state before it: the last
    // change may never have reached the cluster, and going back must always be possible.
    const stillUnsafe = previous === undefined ? undefined : new Set(unsafeChanges(previous, requested.state).map((r) => r.change));
    const refusals = unsafeChanges(old, requested.state)
        .filter(({ change }) => !requested.acknowledged.includes(change))
        .filter(({ change }) => stillUnsafe === undefined || stillUnsafe.has(change))
        .map(
            ({ change, reason }) =>
                `${reason}. If you have made sure this is what you want, add "${change}" to acknowledgedChanges ` +
                `for this update (and remove it afterwards)`,
        );
    // What the guard remembers across updates (the release that created the data) rides on the stored state.
    // Dropping undefined fields (JSON) for the same reason as below: the answer travels as a protobuf Struct.
    const state: ChangeGuardState = JSON.parse(JSON.stringify(carriedState(old, requested.state)));
    const before = sameState(old, state) ? previous : old;
    // No undefined fields: the provider's answer travels as a protobuf Struct, which has no undefined.
    const record: GuardRecord = before === undefined ? { state } : { state, previous: before };
    return { refusals, record };
}

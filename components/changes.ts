/**
 * What a running cluster must keep across an update, and the rules that refuse unsafe changes. The change
 * guard stores this state and applies the rules at preview time, before Kubernetes is touched.
 */
export interface ChangeGuardState {
    readonly clusterName: string;
    readonly namespace: string;
    readonly version: string;
    readonly major: number;
    /** e.g. 50809 for 5.8.9. */
    readonly versionRank: number;
    /** Oldest version this one can take data over from ("" when any of the same major), and its rank (0). */
    readonly rollsFrom: string;
    readonly rollsFromRank: number;
    readonly persistence: boolean;
    /** "" for the cluster's default StorageClass. */
    readonly storageClass: string;
    readonly storageSize: string;
    readonly storageBytes: number;
    readonly volumeGeneration: number;
}

const MIGRATION_DOC =
    "deploy the new version as a second cluster (another clusterName), export the data from the old one " +
    "(`emqx ctl data export`) and import it into the new one, then move the clients";

/**
 * One refused change. `change` is a stable identifier of the kind of change (the arg it concerns, e.g. `version`,
 * `storageClass`), the name a user gives to acknowledge it; `reason` says why it is refused and the way forward.
 */
export interface Refusal {
    readonly change: string;
    readonly reason: string;
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
    if (old.major !== next.major) {
        refuse(
            "version",
            `EMQX ${old.version} -> ${next.version} is not a rolling upgrade (the data formats of 4.x and 5.x ` +
                `differ); ${MIGRATION_DOC}`,
        );
    } else if (old.versionRank < next.rollsFromRank) {
        refuse(
            "version",
            `EMQX ${next.version} cannot take over data from ${old.version}; roll to ${next.rollsFrom} ` +
                `or later first (one minor release per update), or ${MIGRATION_DOC}`,
        );
    }

    const generationBumped = next.volumeGeneration > old.volumeGeneration;
    if (next.volumeGeneration < old.volumeGeneration) {
        refuse(
            "volumeGeneration",
            `${old.volumeGeneration} -> ${next.volumeGeneration} would bring back older volumes ` +
                `under the running cluster; generations only go up`,
        );
    }
    if (!generationBumped) {
        const optIn =
            `bump volumeGeneration (to ${old.volumeGeneration + 1}) to start a new StatefulSet on new, empty ` +
            `volumes; the Services move to it and the old StatefulSet is deleted, its claims kept until you delete them`;
        if (old.persistence !== next.persistence) {
            refuse("persistence", `${old.persistence} -> ${next.persistence} changes where every node keeps its data; ${optIn}`);
        } else if (next.persistence && old.storageClass !== next.storageClass) {
            refuse(
                "storageClass",
                `"${old.storageClass || "(cluster default)"}" -> "${next.storageClass || "(cluster default)"}" ` +
                    `cannot apply to existing volumes; ${optIn}`,
            );
        } else if (next.persistence && next.storageBytes < old.storageBytes) {
            refuse("storageSize", `${old.storageSize} -> ${next.storageSize} would shrink volumes, which Kubernetes refuses; ${optIn}`);
        }
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

function sameState(a: ChangeGuardState | undefined, b: ChangeGuardState | undefined): boolean {
    return JSON.stringify(a) === JSON.stringify(b);
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
    const before = sameState(old, requested.state) ? previous : old;
    // No undefined fields: the provider's answer travels as a protobuf Struct, which has no undefined.
    const record: GuardRecord = before === undefined ? { state: requested.state } : { state: requested.state, previous: before };
    return { refusals, record };
}

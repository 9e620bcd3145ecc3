/**
 * Cluster membership after a node goes away: how long a stopped node stays listed before the remaining nodes remove
 * it (EMQX's `cluster.autoclean`). The arg's check and its piece of the plan live here; the version table
 * (`versions.ts`) says where the setting works and what it defaults to.
 *
 * Why autoclean and not a node leaving the cluster on its way out: a pod cannot tell a scale-down from a restart
 * (a rolling update, a drain, an eviction all send the same SIGTERM), and leaving on every stop would make each
 * restart a leave and a fresh join. Autoclean removes only nodes that stay down longer than the duration, which a
 * restart does not.
 */
import { VersionProfile } from "./versions";

/** The EMQX setting the arg fills. */
export const AUTOCLEAN_SETTING = "cluster.autoclean";

/** Below this, an ordinary restart (stop, reschedule, boot) could outlast the duration and remove the node. */
const MIN_AUTOCLEAN_SECONDS = 60;

const UNIT_SECONDS: Readonly<Record<string, number>> = { s: 1, m: 60, h: 3600 };

/** `90s`, `5m`, `1h` -> seconds; undefined for anything else (the forms 4.x cuttlefish and 5.x HOCON both read). */
export function durationSeconds(value: string): number | undefined {
    const match = /^([1-9][0-9]{0,6})(s|m|h)$/.exec(value);
    return match ? Number(match[1]) * UNIT_SECONDS[match[2]] : undefined;
}

/** What is wrong with an `autoclean` value for this release, with the fix; undefined when it is fine. */
export function autocleanProblem(value: string, version: VersionProfile | undefined): string | undefined {
    if (version?.autocleanLimit) {
        return `EMQX ${version.version} cannot remove stopped nodes on its own: ${version.autocleanLimit}`;
    }
    const seconds = durationSeconds(value);
    if (seconds === undefined) {
        return `"${value}" is not a duration such as 30m or 2h (a whole number of s, m or h)`;
    }
    if (seconds < MIN_AUTOCLEAN_SECONDS) {
        return (
            `"${value}" is shorter than a pod restart can take (stop, reschedule, boot): a restarting node would be ` +
            `removed from the cluster; use at least ${MIN_AUTOCLEAN_SECONDS / 60}m`
        );
    }
    return undefined;
}

/** The EMQX setting for the checked `autoclean` (or the release's default); none where the release ignores it. */
export function membershipSettings(autoclean: string | undefined, version: VersionProfile): Record<string, string> {
    const value = autoclean ?? version.autocleanDefault;
    return value === undefined || version.autocleanLimit ? {} : { [AUTOCLEAN_SETTING]: value };
}

import * as pulumi from "@pulumi/pulumi";
import { ChangeGuardState, carriedState, unsafeChanges } from "./changes";

/** Type token suffix of the guard: `pulumi-nodejs:dynamic/emqx:ChangeGuard`. */
export const CHANGE_GUARD_TYPE = "ChangeGuard";

interface GuardInputs {
    state: ChangeGuardState;
}

/**
 * Remembers what the running cluster was deployed with and refuses, in `check` (which runs during preview,
 * before any Kubernetes object changes), an update that would lose data or fail half-way.
 */
export const changeGuardProvider: pulumi.dynamic.ResourceProvider = {
    async check(olds: Partial<GuardInputs>, news: GuardInputs) {
        const reasons = unsafeChanges(olds.state, news.state);
        // The stored inputs carry what the guard must remember across updates (where the data came from).
        const inputs = { ...news, state: carriedState(olds.state, news.state) };
        return { inputs, failures: reasons.map(({ reason }) => ({ property: "state", reason })) };
    },
    async create(inputs: GuardInputs) {
        return { id: `${inputs.state.namespace}/${inputs.state.clusterName}`, outs: inputs };
    },
    async diff(_id: string, olds: GuardInputs, news: GuardInputs) {
        return { changes: JSON.stringify(olds.state) !== JSON.stringify(news.state) };
    },
    async update(_id: string, _olds: GuardInputs, news: GuardInputs) {
        return { outs: news };
    },
};

export class ChangeGuard extends pulumi.dynamic.Resource {
    constructor(name: string, state: ChangeGuardState, opts?: pulumi.CustomResourceOptions) {
        super(changeGuardProvider, name, { state }, opts, "emqx", CHANGE_GUARD_TYPE);
    }
}

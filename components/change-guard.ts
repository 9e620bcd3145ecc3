import * as pulumi from "@pulumi/pulumi";
import { ChangeGuardState, GuardRecord, reviewChange, sameRecord } from "./changes";

/** Type token suffix of the guard: `pulumi-nodejs:dynamic/emqx:ChangeGuard`. */
export const CHANGE_GUARD_TYPE = "ChangeGuard";

// Pulumi serializes the provider's code into the stack state. A function reached through its module (what an
// import compiles to) would be serialized as a require() of the installed package's file, which breaks once the
// package moves or goes; a function held in a local constant is serialized by value, with what it calls.
const review = reviewChange;
const same = sameRecord;

interface GuardInputs extends GuardRecord {
    readonly acknowledged: readonly string[];
}

/**
 * Remembers what the running cluster was deployed with and refuses, in `check` (which runs during preview,
 * before any Kubernetes object changes), an update that would lose data or fail half-way.
 */
export const changeGuardProvider: pulumi.dynamic.ResourceProvider = {
    async check(olds: Partial<GuardInputs>, news: GuardInputs) {
        const { refusals, record } = review(olds, { state: news.state, acknowledged: news.acknowledged ?? [] });
        // No property: the engine would print the property's whole value (the recorded state) before the reason.
        return {
            inputs: { ...record, acknowledged: news.acknowledged ?? [] },
            failures: refusals.map((reason) => ({ property: "", reason })),
        };
    },
    async create(inputs: GuardInputs) {
        return { id: `${inputs.state.namespace}/${inputs.state.clusterName}`, outs: inputs };
    },
    async diff(_id: string, olds: GuardInputs, news: GuardInputs) {
        return { changes: !same([olds.state, olds.previous], [news.state, news.previous]) };
    },
    async update(_id: string, _olds: GuardInputs, news: GuardInputs) {
        return { outs: news };
    },
};

/** The guard's own resource; every Kubernetes object of the cluster depends on it. */
export class ChangeGuard extends pulumi.dynamic.Resource {
    constructor(
        name: string,
        request: { state: pulumi.Input<ChangeGuardState>; acknowledged: pulumi.Input<readonly string[]> },
        opts?: pulumi.CustomResourceOptions,
    ) {
        super(changeGuardProvider, name, request, opts, "emqx", CHANGE_GUARD_TYPE);
    }
}

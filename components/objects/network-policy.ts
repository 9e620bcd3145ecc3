import * as k8s from "@pulumi/kubernetes";
import { PolicyRule } from "../network-policy";
import { ClusterPlan } from "../plan";
import { namedMetadata } from "./metadata";

type NetworkPolicyIngressRule = k8s.types.input.networking.v1.NetworkPolicyIngressRule;
type NetworkPolicyEgressRule = k8s.types.input.networking.v1.NetworkPolicyEgressRule;

/** A rule's ports (every port when it has none) as the NetworkPolicy lists them. */
function ports(rule: PolicyRule): Pick<NetworkPolicyIngressRule, "ports"> {
    return rule.ports === undefined ? {} : { ports: rule.ports.map((port) => ({ ...port })) };
}

/**
 * The NetworkPolicy over every pod of the cluster: one ingress rule per planned allowance (a rule without peers
 * admits every source on its ports), and egress rules only when egress is restricted. Named after the cluster.
 */
export function buildNetworkPolicy(plan: ClusterPlan): k8s.networking.v1.NetworkPolicyArgs {
    const policy = plan.networkPolicy;
    if (!policy) {
        throw new Error("the plan has no NetworkPolicy");
    }
    const ingress: NetworkPolicyIngressRule[] = policy.ingress.map((rule) => ({
        ...(rule.peers !== undefined ? { from: [...rule.peers] } : {}),
        ...ports(rule),
    }));
    const egress: NetworkPolicyEgressRule[] | undefined = policy.egress?.map((rule) => ({
        ...(rule.peers !== undefined ? { to: [...rule.peers] } : {}),
        ...ports(rule),
    }));
    return {
        metadata: namedMetadata(plan, plan.names.networkPolicy),
        spec: {
            podSelector: { matchLabels: { ...policy.podSelector } },
            policyTypes: egress ? ["Ingress", "Egress"] : ["Ingress"],
            ingress,
            ...(egress ? { egress } : {}),
        },
    };
}

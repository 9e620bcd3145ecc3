import * as k8s from "@pulumi/kubernetes";
import { ClusterPlan } from "../plan";
import { namedMetadata } from "./metadata";

export function buildServiceAccount(plan: ClusterPlan): k8s.core.v1.ServiceAccountArgs {
    return {
        metadata: {
            ...namedMetadata(plan, plan.names.serviceAccount),
            ...(plan.placement.serviceAccountAnnotations ? { annotations: plan.placement.serviceAccountAnnotations } : {}),
        },
        // Only k8s discovery talks to the API server; every other mode runs without a token.
        automountServiceAccountToken: plan.discovery.needsApiToken,
    };
}

/** Read access to the Endpoints of the headless Service only: what ekka's k8s discovery calls. */
export function buildEndpointsReaderRole(plan: ClusterPlan): k8s.rbac.v1.RoleArgs {
    return {
        metadata: namedMetadata(plan, plan.names.role),
        rules: [
            {
                apiGroups: [""],
                resources: ["endpoints"],
                resourceNames: [plan.names.headlessService],
                verbs: ["get", "list", "watch"],
            },
        ],
    };
}

export function buildEndpointsReaderBinding(plan: ClusterPlan): k8s.rbac.v1.RoleBindingArgs {
    return {
        metadata: namedMetadata(plan, plan.names.roleBinding),
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: plan.names.role },
        subjects: [{ kind: "ServiceAccount", name: plan.names.serviceAccount, namespace: plan.namespace }],
    };
}

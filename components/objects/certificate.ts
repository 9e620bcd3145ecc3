import { ClusterPlan } from "../plan";
import { buildCertificate } from "../tls";
import { namedMetadata } from "./metadata";

/** The API version and kind of cert-manager's Certificate custom resource. */
export const CERTIFICATE_TYPE = { apiVersion: "cert-manager.io/v1", kind: "Certificate" } as const;

/** The cert-manager Certificate of `tls.certificate`, named like the Secret cert-manager writes for it. */
export function buildTlsCertificate(plan: ClusterPlan): ReturnType<typeof buildCertificate> {
    if (!plan.tls?.certificate) {
        throw new Error("the plan has no Certificate");
    }
    return buildCertificate(plan.tls, namedMetadata(plan, plan.tls.certificate.name));
}

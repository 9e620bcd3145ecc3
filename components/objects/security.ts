import * as k8s from "@pulumi/kubernetes";
import { VersionProfile } from "../versions";

type PodSecurityContext = k8s.types.input.core.v1.PodSecurityContext;
type SecurityContext = k8s.types.input.core.v1.SecurityContext;

/** The images run as uid/gid 1000 (user `emqx`); volumes must be writable by that group (emqx#6348). */
export const EMQX_UID = 1000;

/**
 * The pod's security context. With `containerSecurityContext` every pod passes the Pod Security Standards
 * "restricted" profile (kubernetes.io/docs/concepts/security/pod-security-standards): a non-root uid, seccomp
 * `RuntimeDefault`, no host namespaces, no privilege.
 */
export function podSecurityContext(): PodSecurityContext {
    return {
        runAsUser: EMQX_UID,
        runAsGroup: EMQX_UID,
        runAsNonRoot: true,
        fsGroup: EMQX_UID,
        fsGroupChangePolicy: "OnRootMismatch",
        seccompProfile: { type: "RuntimeDefault" },
    };
}

/**
 * The EMQX container's security context: no privilege escalation, no capabilities (EMQX binds no port below 1024),
 * and a read-only root filesystem where the release writes only to its volumes (5.x: data, log, and the emptyDirs
 * of `readOnlyRoot.writablePaths`); 4.x writes into `/opt/emqx` and keeps it writable (`writableRootReason`).
 */
export function containerSecurityContext(version: Pick<VersionProfile, "readOnlyRoot">): SecurityContext {
    return {
        ...(version.readOnlyRoot ? { readOnlyRootFilesystem: true } : {}),
        allowPrivilegeEscalation: false,
        privileged: false,
        capabilities: { drop: ["ALL"] },
        runAsNonRoot: true,
        seccompProfile: { type: "RuntimeDefault" },
    };
}

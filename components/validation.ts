import * as net from "net";
/** Kubernetes naming and quantity rules, as the API server applies them, and validators of single values. */
import { isIP } from "net";
import { Pod } from "kubernetes-models/v1/Pod";
import type { EntrypointMangling } from "./versions";

// RFC 1123 label: namespaces, most object names.
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
// RFC 1035 label: Service names must start with a letter.
const DNS1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;

export function isDns1123Label(value: string): boolean {
    return value.length <= 63 && DNS1123_LABEL.test(value);
}

export function isDns1035Label(value: string): boolean {
    return value.length <= 63 && DNS1035_LABEL.test(value);
}

/** RFC 1123 subdomain: StorageClass and Secret names, DNS domains. */
export function isDns1123Subdomain(value: string): boolean {
    return value.length <= 253 && value.split(".").every((label) => DNS1123_LABEL.test(label));
}

// A label value, or the name part of a label or annotation key.
const QUALIFIED_NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;

/** A label or annotation key: an optional DNS-subdomain prefix and `/`, then a name of at most 63 characters. */
export function labelKeyProblem(key: string): string | undefined {
    const slash = key.lastIndexOf("/");
    const [prefix, name] = slash < 0 ? [undefined, key] : [key.slice(0, slash), key.slice(slash + 1)];
    const valid = (prefix === undefined || isDns1123Subdomain(prefix)) && name.length <= 63 && QUALIFIED_NAME.test(name);
    return valid
        ? undefined
        : `is not a Kubernetes key: an optional DNS prefix and '/', then at most 63 letters, digits, '-', '_' or '.', ` +
              `starting and ending with a letter or digit`;
}

/** A label value: empty, or at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit. */
export function labelValueProblem(value: string): string | undefined {
    return value === "" || (value.length <= 63 && QUALIFIED_NAME.test(value))
        ? undefined
        : `"${value}" is not a label value: at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit`;
}

/**
 * Parts of a pod checked against the Kubernetes OpenAPI schema (types, enums, required fields), as the API server
 * would check them: one `field: message` per problem, the field named by `argPath` from the JSON pointer
 * (`/spec/tolerations/0/effect`). Fields left undefined are not checked; `spec.containers` defaults to one
 * container named `emqx`.
 */
export function podSchemaProblems(
    pod: { metadata?: Record<string, unknown>; spec: Record<string, unknown> },
    argPath: (instancePath: string) => string,
): string[] {
    const candidate = new Pod({
        metadata: { name: "candidate", ...pod.metadata },
        spec: { containers: [{ name: "emqx" }], ...pod.spec } as never,
    });
    return modelProblems(candidate, argPath);
}

/**
 * What the Kubernetes OpenAPI schema finds wrong in a candidate object of `kubernetes-models`: one `field: message`
 * per problem, the field named by `argPath` from the JSON pointer of the value.
 */
export function modelProblems(candidate: { validate(): void }, argPath: (instancePath: string) => string): string[] {
    try {
        candidate.validate();
        return [];
    } catch (error) {
        const errors = (error as { errors?: { instancePath: string; message?: string; params?: Record<string, unknown> }[] }).errors;
        if (!errors) {
            throw error;
        }
        return errors.map((e) => {
            const allowed = Array.isArray(e.params?.allowedValues) ? `: ${(e.params.allowedValues as string[]).join(", ")}` : "";
            return `${argPath(e.instancePath)}: ${e.message}${allowed}`;
        });
    }
}

/** A JSON pointer below `pointerPrefix` as an arg path below `field`: `/0/ipBlock/except/1` -> `field[0].ipBlock.except[1]`. */
export function pointerToArgPath(field: string, pointerPrefix: string, pointer: string): string {
    const rest = pointer.startsWith(pointerPrefix) ? pointer.slice(pointerPrefix.length) : pointer;
    return field + rest.split("/").filter(Boolean).map((part) => (/^\d+$/.test(part) ? `[${part}]` : `.${part}`)).join("");
}

/** An object of fields (not an array, not null). */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
    return typeof value === "object" && value !== null && !Array.isArray(value);
}

const QUANTITY = /^([0-9]+(?:\.[0-9]+)?)(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$/;
const MULTIPLIERS: Record<string, number> = {
    "": 1,
    k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18,
    Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60,
};

/** Bytes of a storage quantity such as `10Gi` or `500M`; undefined when it is not one. */
export function storageBytes(quantity: string): number | undefined {
    const match = QUANTITY.exec(quantity);
    if (!match) {
        return undefined;
    }
    return Number(match[1]) * MULTIPLIERS[match[2] ?? ""];
}

export const NODE_PORT_RANGE = { min: 30000, max: 32767 } as const;

/*
 * Value validators: each takes a plain value and returns what is wrong with it (a sentence naming the fix), or
 * undefined. They are pure so that checks can run them on plain args now and on Output values once known.
 */

/** A problem with a value, or undefined when it is fine. */
export type ValueValidator = (value: string) => string | undefined;

/**
 * `externalHost`: a host name (RFC 1123, any case) or an IP address. IPv6 addresses are given bare (`2001:db8::7`):
 * the URL outputs add the brackets.
 */
export const externalHostProblem: ValueValidator = (value) => {
    const fix = "give a host name such as mqtt.example.com or an IP address, without scheme, port or path";
    if (/^\[.*\]$/.test(value) && isIP(value.slice(1, -1)) === 6) {
        return `"${value}" has brackets; give the IPv6 address without them (${value.slice(1, -1)}): the URLs add them`;
    }
    if (isIP(value) !== 0) {
        return undefined;
    }
    if (value.includes("://")) {
        return `"${value}" is a URL; ${fix}`;
    }
    if (/:\d+$/.test(value)) {
        return `"${value}" has a port; the port comes from the Service (NodePort); ${fix}`;
    }
    const labels = value.toLowerCase().split(".");
    if (value.length > 253 || !labels.every((label) => label.length <= 63 && DNS1123_LABEL.test(label))) {
        return `"${value}" is neither a host name nor an IP address; ${fix}`;
    }
    return undefined;
};

/** The smallest data volume: what EMQX's own Helm chart and operator examples run EMQX on. */
export const MIN_STORAGE_SIZE = "20Mi";

/** `storageSize`: a Kubernetes quantity of at least `MIN_STORAGE_SIZE`. */
export const storageSizeProblem: ValueValidator = (value) => {
    const bytes = storageBytes(value);
    if (bytes === undefined || bytes <= 0) {
        return `"${value}" is not a positive Kubernetes quantity such as 1Gi or 500Mi`;
    }
    const minimum = storageBytes(MIN_STORAGE_SIZE) as number;
    if (bytes < minimum) {
        return (
            `"${value}" is ${bytes} bytes, too small for EMQX's data directory (a plain number is bytes); ` +
            `use at least ${MIN_STORAGE_SIZE}, e.g. 1Gi`
        );
    }
    return undefined;
};

/** `storageClass`: a StorageClass name, or "" for Kubernetes' "no class, no dynamic provisioning". */
export const storageClassProblem: ValueValidator = (value) =>
    value === "" || isDns1123Subdomain(value)
        ? undefined
        : `"${value}" is not a valid StorageClass name (lowercase DNS subdomain); omit storageClass for the cluster's ` +
          `default class, or give "" for no dynamic provisioning`;

/**
 * A value that reaches EMQX through an image entrypoint that changes some characters (4.0-4.2): the problem names
 * the characters, never the value, since the value may be a secret.
 */
export function entrypointValueProblem(version: string, entrypoint: EntrypointMangling | undefined): ValueValidator {
    return (value) => {
        const mangled = entrypoint?.mangled.filter((m) => m.pattern.test(value)) ?? [];
        if (mangled.length === 0) {
            return undefined;
        }
        return (
            `the EMQX ${version} image's entrypoint changes values with ${mangled.map((m) => m.what).join("; ")}, ` +
            `so EMQX would get another value than the one given; avoid these characters, or use EMQX 4.3 or later, ` +
            `which reads the value verbatim`
        );
    };
}

/** A Kubernetes qualified name (annotation key, `loadBalancerClass`): `[prefix/]name`, the prefix a DNS subdomain. */
export function isQualifiedName(value: string): boolean {
    const parts = value.split("/");
    if (parts.length > 2) {
        return false;
    }
    const name = parts[parts.length - 1];
    const prefix = parts.length === 2 ? parts[0] : undefined;
    return (
        name.length <= 63 &&
        /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/.test(name) &&
        (prefix === undefined || isDns1123Subdomain(prefix))
    );
}

/** An IPv4 or IPv6 CIDR such as `203.0.113.0/24` or `2001:db8::/32`. */
export function isCidr(value: string): boolean {
    const match = /^([^/]+)\/(\d{1,3})$/.exec(value);
    const family = match ? net.isIP(match[1]) : 0;
    return family !== 0 && Number(match![2]) <= (family === 4 ? 32 : 128);
}

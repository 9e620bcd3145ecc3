/** Kubernetes naming and quantity rules, as the API server applies them. */

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

/** Reads registered objects the way a kubelet would: the environment a pod of the StatefulSet actually gets. */
import { RegisteredResource, TYPES, ofType, single } from "./harness";

function byName(resources: readonly RegisteredResource[], type: string, name: string): RegisteredResource {
    const found = ofType(resources, type).find((r) => r.state.metadata?.name === name);
    if (!found) {
        throw new Error(`no ${type} named ${name}`);
    }
    return found;
}

/** The container environment of pod `ordinal`: envFrom ConfigMaps, then env (with $(VAR) expansion, secrets resolved). */
export function podEnvironment(resources: readonly RegisteredResource[], ordinal: number): Record<string, string> {
    const statefulSet = single(resources, TYPES.statefulSet).state;
    const podName = `${statefulSet.metadata.name}-${ordinal}`;
    const container = statefulSet.spec.template.spec.containers[0];
    const env: Record<string, string> = {};
    for (const source of container.envFrom ?? []) {
        Object.assign(env, byName(resources, TYPES.configMap, source.configMapRef.name).state.data);
    }
    for (const variable of container.env ?? []) {
        if (variable.value !== undefined) {
            env[variable.name] = String(variable.value).replace(/\$\(([A-Za-z0-9_]+)\)/g, (whole, ref) => env[ref] ?? whole);
        } else if (variable.valueFrom?.fieldRef) {
            if (variable.valueFrom.fieldRef.fieldPath !== "metadata.name") {
                throw new Error(`unexpected fieldRef ${variable.valueFrom.fieldRef.fieldPath}`);
            }
            env[variable.name] = podName;
        } else if (variable.valueFrom?.secretKeyRef) {
            const ref = variable.valueFrom.secretKeyRef;
            const secret = byName(resources, TYPES.secret, ref.name).state;
            const encoded = secret.data?.[ref.key];
            const value = encoded === undefined ? secret.stringData?.[ref.key] : Buffer.from(encoded, "base64").toString("utf8");
            if (value === undefined) {
                throw new Error(`Secret ${ref.name} has no key ${ref.key}`);
            }
            env[variable.name] = value;
        }
    }
    return env;
}

/** The node name EMQX builds from the environment: EMQX_NAME@EMQX_HOST. */
export function nodeNameOf(env: Record<string, string>): string {
    return `${env.EMQX_NAME}@${env.EMQX_HOST}`;
}

/**
 * A Pulumi engine stand-in for tests and the offline render: records every resource the program registers (type,
 * name, inputs, options, dependencies, order) and answers as the API server and Pulumi would (auto-names, allocated
 * NodePorts, load balancer addresses, Secret data, `ignoreChanges` against the inputs of the previous run).
 */
import * as pulumi from "@pulumi/pulumi";
import { createHash } from "crypto";

// eslint-disable-next-line @typescript-eslint/no-require-imports
const settings = require("@pulumi/pulumi/runtime/settings");
// eslint-disable-next-line @typescript-eslint/no-require-imports
const rpc = require("@pulumi/pulumi/runtime/rpc");
// eslint-disable-next-line @typescript-eslint/no-require-imports
const state = require("@pulumi/pulumi/runtime/state");
// eslint-disable-next-line @typescript-eslint/no-require-imports
const callbackProto = require("@pulumi/pulumi/proto/callback_pb");

export interface RegisteredResource {
    /** Registration order, from 0. */
    readonly order: number;
    readonly type: string;
    /** Pulumi's logical name. */
    readonly name: string;
    readonly urn: string;
    readonly custom: boolean;
    readonly parentUrn: string;
    /** URNs this resource waits for (explicit and implied dependencies). */
    readonly dependencies: readonly string[];
    readonly deleteBeforeReplace: boolean;
    readonly retainOnDelete: boolean;
    readonly protect: boolean;
    readonly ignoreChanges: readonly string[];
    readonly replaceOnChanges: readonly string[];
    readonly provider: string;
    readonly aliases: readonly unknown[];
    /** Inputs as the provider receives them, secrets unwrapped. */
    readonly inputs: Record<string, any>;
    /** Dotted paths of inputs that were marked secret. */
    readonly secretPaths: readonly string[];
    /** What the mock engine returned: inputs plus the values the API server or Pulumi fill in. */
    readonly state: Record<string, any>;
}

export const LOAD_BALANCER_IP = "198.51.100.7";
export const AUTO_NAME_MARK = "generated";

function unwrapSecrets(value: any, path: string, secretPaths: string[]): any {
    if (value && typeof value === "object") {
        if (rpc.isRpcSecret(value)) {
            secretPaths.push(path);
            return unwrapSecrets(value.value, path, secretPaths);
        }
        if (Array.isArray(value)) {
            return value.map((v, i) => unwrapSecrets(v, `${path}[${i}]`, secretPaths));
        }
        return Object.fromEntries(
            Object.entries(value).map(([k, v]) => [k, unwrapSecrets(v, path ? `${path}.${k}` : k, secretPaths)]),
        );
    }
    return value;
}

function shortHash(value: unknown): string {
    return createHash("sha256").update(JSON.stringify(value)).digest("hex").slice(0, 8);
}

export interface RunOptions {
    /** Stack config as `project:key` -> string (what `pulumi config` stores). */
    readonly config?: Record<string, string>;
    readonly preview?: boolean;
    /** First NodePort the fake API server allocates. */
    readonly firstNodePort?: number;
    /** Stacks a `StackReference` can read, by stack name (`org/project/stack`), as `pulumi stack output` shows them. */
    readonly stackReferences?: Record<string, StackOutputs>;
}

export interface StackOutputs {
    readonly outputs: Record<string, unknown>;
    /** Outputs the referenced stack marks secret; reading them gives secret outputs. */
    readonly secretOutputNames?: readonly string[];
}

const STACK_REFERENCE_TYPE = "pulumi:pulumi:StackReference";

/** A run that failed after it started registering resources: the error, and what was registered until then. */
export class RunFailure extends Error {
    constructor(
        readonly cause: unknown,
        readonly resources: RegisteredResource[],
    ) {
        super(cause instanceof Error ? cause.message : String(cause));
        this.name = "RunFailure";
    }
}

/** A function the program invoked through a provider. */
export interface InvokedCall {
    readonly token: string;
    readonly inputs: Record<string, any>;
    /** `<provider URN>::<provider ID>`, as a resource's `provider`; empty for the default provider. */
    readonly provider?: string;
    /** How many resources had been registered when the call reached the engine. */
    readonly afterResources: number;
}

export interface RunResult<T> {
    readonly value: T;
    readonly resources: RegisteredResource[];
    readonly warnings: string[];
    readonly calls: InvokedCall[];
}

/**
 * Runs programs against the mock engine. One harness is one stack: generated secrets and allocated NodePorts of
 * a resource persist from one run to the next, as Pulumi state and the API server would keep them.
 */
export class MockEngine {
    /** Inputs of every resource as the last run left them in the state, by URN. */
    private readonly recorded = new Map<string, Record<string, any>>();
    private readonly allocatedPorts = new Map<string, number>();
    private nextNodePort: number;

    constructor(private readonly project = "emqx-cluster", private readonly stack = "test", firstNodePort = 30100) {
        this.nextNodePort = firstNodePort;
    }

    async run<T>(program: () => T, options: RunOptions = {}): Promise<RunResult<T>> {
        const resources: RegisteredResource[] = [];
        const warnings: string[] = [];
        const calls: InvokedCall[] = [];
        // What the engine hands the provider once `ignoreChanges` is applied, by type and name, for `newResource`.
        const effective = new Map<string, Record<string, any>>();
        const mocks: pulumi.runtime.Mocks = {
            newResource: (args) =>
                args.type === STACK_REFERENCE_TYPE
                    ? { id: args.id, state: stackReferenceState(args.inputs.name, options.stackReferences) }
                    : {
                          id: `${args.name}-id`,
                          state: this.emulate(
                              args.type,
                              args.name,
                              effective.get(`${args.type}::${args.name}`) ?? unwrapSecrets(args.inputs, "", []),
                          ),
                      },
            call: (args) => {
                calls.push({ token: args.token, inputs: args.inputs, provider: args.provider, afterResources: resources.length });
                return args.inputs;
            },
        };
        pulumi.runtime.setAllConfig(options.config ?? {});
        await pulumi.runtime.setMocks(mocks, this.project, this.stack, options.preview ?? false);
        const transforms = emulateTransforms();

        const monitor = settings.getMonitor();
        const register = monitor.registerResource.bind(monitor);
        monitor.registerResource = async (req: any, callback: any) => {
            await transforms.apply(req, monitor.newUrn(req.getParent(), req.getType(), req.getName()));
            const secretPaths: string[] = [];
            const type: string = req.getType();
            const name: string = req.getName();
            const urn = monitor.newUrn(req.getParent(), type, name);
            const offered = unwrapSecrets(rpc.deserializeProperties(req.getObject()), "", secretPaths);
            // The engine keeps the recorded value of every ignored path of a resource that already exists.
            const inputs = keepIgnored(this.recorded.get(urn), offered, req.getIgnorechangesList());
            effective.set(`${type}::${name}`, inputs);
            this.recorded.set(urn, inputs);
            const record: RegisteredResource = {
                order: resources.length,
                type,
                name,
                urn,
                custom: req.getCustom(),
                parentUrn: req.getParent(),
                dependencies: req.getDependenciesList(),
                deleteBeforeReplace: req.getDeletebeforereplace(),
                retainOnDelete: req.getRetainondelete?.() ?? false,
                protect: req.getProtect?.() ?? false,
                ignoreChanges: req.getIgnorechangesList(),
                replaceOnChanges: req.getReplaceonchangesList(),
                provider: req.getProvider(),
                aliases: req.getAliasesList?.() ?? [],
                inputs,
                secretPaths,
                state: this.emulate(type, name, inputs),
            };
            resources.push(record);
            return register(req, callback);
        };

        const originalWarn = pulumi.log.warn;
        (pulumi.log as { warn: typeof pulumi.log.warn }).warn = async (message: string) => {
            warnings.push(message);
        };
        // An error in an apply that a resource's inputs wait for fails the registration outside the program's
        // promise chain, as in the real runtime: surface it as the run's failure, with what was registered before.
        let onRejection: (reason: unknown) => void = () => {};
        const failed = new Promise<never>((_, reject) => {
            onRejection = (reason) => reject(new RunFailure(reason, resources));
            process.on("unhandledRejection", onRejection);
        });
        try {
            const value = program();
            // An async program registers resources after it awaits: wait for it before waiting for the registrations.
            await Promise.race([Promise.resolve(value), failed]);
            await Promise.race([settings.waitForRPCs(), failed]);
            return { value, resources, warnings, calls };
        } finally {
            (pulumi.log as { warn: typeof pulumi.log.warn }).warn = originalWarn;
            process.removeListener("unhandledRejection", onRejection);
        }
    }

    /** The state the engine returns: what Pulumi and the API server add to the inputs. */
    private emulate(type: string, name: string, inputs: Record<string, any>): Record<string, any> {
        const state = structuredClone(inputs);
        delete state.__provider;
        if (type.startsWith("kubernetes:") && !type.endsWith("Patch") && state.metadata && !state.metadata.name) {
            // Pulumi auto-naming: `<name>-<suffix>`, a new suffix whenever a change replaces the object.
            state.metadata.name = `${name}-${shortHash(inputs)}`;
        }
        if (type === "kubernetes:core/v1:Service") {
            this.allocateNodePorts(name, state);
        }
        if (type === "kubernetes:core/v1:Secret" && state.stringData) {
            // The API server stores stringData base64-encoded under data and returns no stringData.
            state.data = {
                ...state.data,
                ...Object.fromEntries(
                    Object.entries(state.stringData).map(([key, value]) => [key, Buffer.from(String(value)).toString("base64")]),
                ),
            };
            delete state.stringData;
        }
        return state;
    }

    private allocateNodePorts(name: string, state: Record<string, any>): void {
        const spec = state.spec ?? {};
        if (spec.type !== "NodePort" && spec.type !== "LoadBalancer") {
            return;
        }
        for (const port of spec.ports ?? []) {
            if (port.nodePort === undefined) {
                const key = `${name}/${port.name}`;
                if (!this.allocatedPorts.has(key)) {
                    this.allocatedPorts.set(key, this.nextNodePort++);
                }
                port.nodePort = this.allocatedPorts.get(key);
            }
        }
        if (spec.type === "LoadBalancer") {
            state.status = { loadBalancer: { ingress: [{ ip: LOAD_BALANCER_IP }] } };
        }
    }
}

/** `a.b[0].c` as keys. */
function pathKeys(path: string): (string | number)[] {
    return path.split(/\.|\[(\d+)\]/).filter((k) => k !== undefined && k !== "").map((k) => (/^\d+$/.test(k) ? Number(k) : k));
}

/** The inputs the engine uses for an update: the offered ones, with every ignored path set back to its recorded value. */
function keepIgnored(recorded: Record<string, any> | undefined, offered: Record<string, any>, ignored: readonly string[]): Record<string, any> {
    if (!recorded || ignored.length === 0) {
        return offered;
    }
    const result = structuredClone(offered);
    for (const path of ignored) {
        const keys = pathKeys(path);
        let from: any = recorded;
        let to: any = result;
        for (const key of keys.slice(0, -1)) {
            from = from?.[key];
            to = to?.[key];
        }
        const last = keys[keys.length - 1];
        if (to && typeof to === "object") {
            if (from && typeof from === "object" && last in from) {
                to[last] = structuredClone(from[last]);
            } else {
                delete to[last];
            }
        }
    }
    return result;
}

/** What the engine answers for a stack reference: the referenced stack's outputs. */
function stackReferenceState(stack: string, stacks: Record<string, StackOutputs> = {}): Record<string, unknown> {
    const referenced = stacks[stack];
    if (!referenced) {
        throw new Error(`unknown stack "${stack}"; the run knows ${Object.keys(stacks).join(", ") || "no stacks"}`);
    }
    return { name: stack, outputs: referenced.outputs, secretOutputNames: [...(referenced.secretOutputNames ?? [])] };
}

type Transform = (args: pulumi.ResourceTransformArgs) => Promise<pulumi.ResourceTransformResult | undefined> | pulumi.ResourceTransformResult | undefined;

/**
 * The engine's side of the `transforms` resource option, which Pulumi's mocks lack: a resource's own transforms run
 * first, then its parent's, up to the root, each on the properties the previous one returned. Transforms see the
 * properties only (no options) and what they return as options is not applied.
 */
function emulateTransforms(): { apply(req: any, urn: string): Promise<void> } {
    const registered = new Map<string, Transform>();
    const byUrn = new Map<string, { parentUrn: string; tokens: string[] }>();
    const store = state.getStore();
    store.supportsTransforms = true;
    store.callbacks = {
        async registerTransform(transform: Transform) {
            const token = `transform-${registered.size}`;
            registered.set(token, transform);
            const callback = new callbackProto.Callback();
            callback.setToken(token);
            callback.setTarget("mock-engine");
            return callback;
        },
        async awaitStackRegistrations() {},
    };
    return {
        async apply(req, urn) {
            byUrn.set(urn, { parentUrn: req.getParent(), tokens: req.getTransformsList().map((c: any) => c.getToken()) });
            const chain: Transform[] = [];
            for (let at = byUrn.get(urn); at; at = byUrn.get(at.parentUrn)) {
                chain.push(...at.tokens.map((token) => registered.get(token)!));
            }
            if (chain.length === 0) {
                return;
            }
            let props = rpc.deserializeProperties(req.getObject());
            for (const transform of chain) {
                const args = { type: req.getType(), name: req.getName(), custom: req.getCustom(), props, opts: {} };
                props = (await transform(args))?.props ?? props;
            }
            // The request's own Struct class, so that the properties are encoded exactly as the SDK encodes them.
            req.setObject(req.getObject().constructor.fromJavaScript(await rpc.serializeProperties("transformed", props)));
        },
    };
}

/** The value of an output, as the engine resolved it. */
export function valueOf<T>(output: pulumi.Output<T> | pulumi.Input<T>): Promise<T> {
    return new Promise((resolve) => pulumi.output(output).apply((v) => resolve(v as T)));
}

/** Whether an output is marked secret. */
export function isSecret(output: pulumi.Output<unknown>): Promise<boolean> {
    return pulumi.isSecret(output);
}

/** Kubernetes objects only, keyed by `Kind/name` as the API server would know them. */
export function kubernetesObjects(resources: readonly RegisteredResource[]): RegisteredResource[] {
    return resources.filter((r) => r.type.startsWith("kubernetes:"));
}

export function ofType(resources: readonly RegisteredResource[], type: string): RegisteredResource[] {
    return resources.filter((r) => r.type === type);
}

export function single(resources: readonly RegisteredResource[], type: string): RegisteredResource {
    const found = ofType(resources, type);
    if (found.length !== 1) {
        throw new Error(`expected one ${type}, found ${found.length}: ${found.map((r) => r.name).join(", ")}`);
    }
    return found[0];
}

export const TYPES = {
    serviceAccount: "kubernetes:core/v1:ServiceAccount",
    role: "kubernetes:rbac.authorization.k8s.io/v1:Role",
    roleBinding: "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding",
    secret: "kubernetes:core/v1:Secret",
    configMap: "kubernetes:core/v1:ConfigMap",
    service: "kubernetes:core/v1:Service",
    statefulSet: "kubernetes:apps/v1:StatefulSet",
    pdb: "kubernetes:policy/v1:PodDisruptionBudget",
    networkPolicy: "kubernetes:networking.k8s.io/v1:NetworkPolicy",
    pvcPatch: "kubernetes:core/v1:PersistentVolumeClaimPatch",
    ingress: "kubernetes:networking.k8s.io/v1:Ingress",
    serviceMonitor: "kubernetes:monitoring.coreos.com/v1:ServiceMonitor",
    podMonitor: "kubernetes:monitoring.coreos.com/v1:PodMonitor",
    certificate: "kubernetes:cert-manager.io/v1:Certificate",
    component: "emqx:index:EmqxCluster",
} as const;

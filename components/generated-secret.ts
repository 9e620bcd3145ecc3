import * as pulumi from "@pulumi/pulumi";

/** Type token suffix of generated secrets: `pulumi-nodejs:dynamic/emqx:GeneratedSecret`. */
export const GENERATED_SECRET_TYPE = "GeneratedSecret";

/**
 * Generates an alphanumeric secret once and keeps it in the stack state, so it stays the same across updates.
 * Alphanumeric because EMQX 5.x parses environment values as HOCON, where `#` or `//` would cut the value short.
 */
export const generatedSecretProvider: pulumi.dynamic.ResourceProvider = {
    async create(inputs: { length: number }) {
        // Required inside the method: dynamic providers are serialized and run in another process.
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const { randomInt } = require("crypto") as typeof import("crypto");
        const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        let value = "";
        for (let i = 0; i < inputs.length; i++) {
            value += alphabet[randomInt(alphabet.length)];
        }
        return { id: `generated-${inputs.length}-${Date.now()}`, outs: { length: inputs.length, value } };
    },
    async diff(_id: string, olds: { length: number }, news: { length: number }) {
        const changed = olds.length !== news.length;
        return { changes: changed, replaces: changed ? ["length"] : [], deleteBeforeReplace: false };
    },
};

export class GeneratedSecret extends pulumi.dynamic.Resource {
    /** The generated value, a Pulumi secret. */
    declare public readonly value: pulumi.Output<string>;

    constructor(name: string, length: number, opts?: pulumi.CustomResourceOptions) {
        super(
            generatedSecretProvider,
            name,
            { length, value: undefined },
            { ...opts, additionalSecretOutputs: ["value"] },
            "emqx",
            GENERATED_SECRET_TYPE,
        );
    }
}

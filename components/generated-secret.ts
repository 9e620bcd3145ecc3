import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { randomInt } from "crypto";

/**
 * Letters and digits only: EMQX 5.x parses environment values as HOCON, where `#` or `//` would cut the value
 * short, and EMQX's start scripts pass the cookie verbatim to `erl -setcookie`.
 */
export const GENERATED_SECRET_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/** A random string of `length` characters of `GENERATED_SECRET_ALPHABET`, from Node's cryptographic generator. */
export function generateSecretValue(length: number, random: (below: number) => number = randomInt): string {
    let value = "";
    for (let i = 0; i < length; i++) {
        value += GENERATED_SECRET_ALPHABET[random(GENERATED_SECRET_ALPHABET.length)];
    }
    return value;
}

/**
 * The options that make a Secret keep the values of its first deployment: its data is never updated from the
 * program again (a program run offers a fresh random value every time), and it has a fixed name, so nothing
 * replaces it. Its data in the stack state is then what is in the cluster.
 */
export const KEPT_SECRET_OPTIONS: pulumi.CustomResourceOptions = { ignoreChanges: ["stringData", "data"] };

/**
 * One value of a Secret as the stack state has it, a Pulumi secret: from `data`, base64, as the API server returns
 * it. (Not `stringData`: the API server returns none, and a property missing from a resource's state is unknown
 * during a preview, which would make the value unknown there too.)
 */
export function secretValue(secret: k8s.core.v1.Secret, key: string): pulumi.Output<string> {
    return pulumi.secret(
        secret.data.apply((data) => {
            const encoded = data?.[key];
            if (encoded === undefined) {
                throw new Error(`the kept Secret has no key "${key}" in the stack state`);
            }
            return Buffer.from(encoded, "base64").toString("utf8");
        }),
    );
}

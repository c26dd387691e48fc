import { createPrivateKey, type KeyObject } from "node:crypto";
import { subtle } from "./x509.js";

/** Key types sealgate issues and signs with. */
export const KEY_SPECS = ["ec-p256", "ec-p384", "rsa-2048", "rsa-3072"] as const;
export type KeySpec = (typeof KEY_SPECS)[number];

export function keyAlgorithm(spec: KeySpec): RsaHashedKeyGenParams | EcKeyGenParams {
  switch (spec) {
    case "ec-p256":
      return { name: "ECDSA", namedCurve: "P-256" };
    case "ec-p384":
      return { name: "ECDSA", namedCurve: "P-384" };
    case "rsa-2048":
    case "rsa-3072":
      return {
        name: "RSASSA-PKCS1-v1_5",
        modulusLength: spec === "rsa-2048" ? 2048 : 3072,
        publicExponent: new Uint8Array([1, 0, 1]),
        hash: "SHA-256",
      };
  }
}

/** The signature algorithm a CA key of this type signs certificates and CRLs with. */
export function certSigningAlgorithm(spec: KeySpec): Algorithm | EcdsaParams {
  if (spec === "ec-p384") return { name: "ECDSA", hash: "SHA-384" } as EcdsaParams;
  if (spec === "ec-p256") return { name: "ECDSA", hash: "SHA-256" } as EcdsaParams;
  return { name: "RSASSA-PKCS1-v1_5" };
}

export async function generateKeys(spec: KeySpec): Promise<CryptoKeyPair> {
  return (await subtle.generateKey(keyAlgorithm(spec), true, ["sign", "verify"])) as CryptoKeyPair;
}

/** A WebCrypto private key as a node KeyObject (for PEM export and node:crypto signing). */
export async function toKeyObject(key: CryptoKey): Promise<KeyObject> {
  const der = Buffer.from(await subtle.exportKey("pkcs8", key));
  return createPrivateKey({ key: der, format: "der", type: "pkcs8" });
}

/** PKCS#8 PEM, encrypted with AES-256-CBC (PBES2) when a passphrase is given. */
export function pkcs8Pem(key: KeyObject, passphrase?: string): string {
  return key.export(
    passphrase
      ? { type: "pkcs8", format: "pem", cipher: "aes-256-cbc", passphrase }
      : { type: "pkcs8", format: "pem" },
  ) as string;
}

// An independent check of Pishkhan's Verifiable Credentials: Digital Bazaar's implementation of
// VC Data Model 2.0 (@digitalbazaar/vc), the Data Integrity proof with the eddsa-jcs-2022
// cryptosuite, and the Bitstring Status List — none of it written in this project.
//
// The document loader reaches nothing but the Pishkhan server given: the JSON-LD contexts come
// from the copies Pishkhan ships (GET /api/v1/contexts), and the issuer's document, keys and
// status lists from the addresses the credential names, which must be on that server. Anything
// else is refused, so a credential that needs the network does not verify.
//
//   import { verifyOutputCredential } from '../oracles/vc.mjs';
//   const { verified, revoked, error } = await verifyOutputCredential(serverUrl, credential);
//
// or from a shell: node vc.mjs SERVER_URL CREDENTIAL.json (prints the same as JSON).

import fs from 'node:fs';

import * as vc from '@digitalbazaar/vc';
import { DataIntegrityProof } from '@digitalbazaar/data-integrity';
import { createVerifyCryptosuite } from '@digitalbazaar/eddsa-jcs-2022-cryptosuite';
import { checkStatus } from '@digitalbazaar/vc-bitstring-status-list';

async function getJson(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return response.json();
}

/** A document loader that answers from `server` only. */
export async function pishkhanLoader(server) {
  const origin = new URL(server).origin;
  const index = await getJson(`${origin}/api/v1/contexts`);
  const contexts = new Map(index.contexts.map((c) => [c.url, `${origin}${c.href}`]));
  const cache = new Map();
  return async (url) => {
    let document;
    if (contexts.has(url)) {
      if (!cache.has(url)) cache.set(url, await getJson(contexts.get(url)));
      document = cache.get(url);
    } else if (new URL(url).origin === origin) {
      const [address, fragment] = url.split('#');
      document = await getJson(address);
      if (fragment && Array.isArray(document.verificationMethod)) {
        document = document.verificationMethod.find((m) => m.id === url) ?? document;
      }
    } else {
      throw new Error(`refused to load ${url}: not Pishkhan's and not a shipped context`);
    }
    return { contextUrl: null, documentUrl: url, document };
  };
}

/** Verifies `credential` against `server`: its proof, its dates, and its revocation entry. */
export async function verifyOutputCredential(server, credential) {
  const documentLoader = await pishkhanLoader(server);
  const suite = new DataIntegrityProof({ cryptosuite: createVerifyCryptosuite() });
  const result = await vc.verifyCredential({ credential, suite, documentLoader, checkStatus });
  const status = result.statusResult?.results?.[0];
  return {
    verified: result.verified === true,
    revoked: status?.status === true,
    error: result.error ? String(result.error.errors?.[0]?.message ?? result.error.message ?? result.error) : null,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [server, file] = process.argv.slice(2);
  const credential = JSON.parse(fs.readFileSync(file, 'utf8'));
  console.log(JSON.stringify(await verifyOutputCredential(server, credential)));
}

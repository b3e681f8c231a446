// A real OpenLDAP server (Debian slapd) for tests: a test CA made by openssl, ldaps:// and ldap:// (StartTLS)
// on free loopback ports, a mdb database under a temp dir, configured from slapd.conf, seeded by ldapadd.
import { requireProgram } from "./peer.ts";
import { spawnCollected, type Spawned } from "./process.ts";
import { runTool } from "./tools.ts";

export const LDAP_SUFFIX = "dc=example,dc=test";
export const LDAP_ADMIN_DN = `cn=admin,${LDAP_SUFFIX}`;
export const LDAP_ADMIN_PASSWORD = "admin-secret";
/** the read-only service account jumphost binds as */
export const LDAP_SERVICE_DN = `cn=jumphost,ou=services,${LDAP_SUFFIX}`;
export const LDAP_SERVICE_PASSWORD = "service-secret";

export interface Slapd {
  dir: string;
  caFile: string;
  ldapsUrl: string;
  ldapUrl: string;
  /** runs ldapadd/ldapmodify/ldapdelete as the directory admin */
  modify(tool: "ldapadd" | "ldapmodify" | "ldapdelete", input: string, args?: string[]): Promise<void>;
  stop(): Promise<void>;
}

// openssh-lpk's sshPublicKey, and FreeIPA's nsAccountLock (carried by a test-only auxiliary class)
const EXTRA_SCHEMA = `
attributetype ( 1.3.6.1.4.1.24552.500.1.1.1.13 NAME 'sshPublicKey'
  EQUALITY octetStringMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.40 )
objectclass ( 1.3.6.1.4.1.24552.500.1.1.2.0 NAME 'ldapPublicKey' SUP top AUXILIARY
  MAY ( sshPublicKey $ uid ) )
attributetype ( 2.16.840.1.113730.3.1.610 NAME 'nsAccountLock'
  EQUALITY caseIgnoreMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 SINGLE-VALUE )
objectclass ( 1.3.6.1.4.1.99999.424242.1 NAME 'jumphostTestLock' SUP top AUXILIARY MAY nsAccountLock )
`;

function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

async function sh(script: string, cwd: string): Promise<void> {
  const r = await runTool("bash", ["-ec", script], { cwd });
  if (r.code !== 0) throw new Error(`${script.slice(0, 80)}…: ${r.out}`);
}

export async function startSlapd(): Promise<Slapd> {
  requireProgram("/usr/sbin/slapd", "slapd");
  requireProgram("/usr/bin/ldapadd", "ldap-utils");
  const dir = await Deno.makeTempDir({ prefix: "jumphost-slapd-" });
  await Deno.mkdir(`${dir}/db`);
  await sh(
    `openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.pem \
       -subj /CN=jumphost-test-ca -days 2 2>/dev/null
     openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout server.key -out server.csr \
       -subj /CN=127.0.0.1 2>/dev/null
     printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\\n' > san.ext
     openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 2 \
       -extfile san.ext 2>/dev/null
     chmod 0644 server.key`,
    dir,
  );
  await Deno.writeTextFile(`${dir}/extra.schema`, EXTRA_SCHEMA);
  const s = "/etc/ldap/schema";
  await Deno.writeTextFile(
    `${dir}/slapd.conf`,
    `include ${s}/core.schema
include ${s}/cosine.schema
include ${s}/nis.schema
include ${s}/inetorgperson.schema
include ${dir}/extra.schema
modulepath /usr/lib/ldap
moduleload back_mdb
pidfile ${dir}/slapd.pid
TLSCACertificateFile ${dir}/ca.pem
TLSCertificateFile ${dir}/server.pem
TLSCertificateKeyFile ${dir}/server.key
database mdb
maxsize 16777216
suffix "${LDAP_SUFFIX}"
rootdn "${LDAP_ADMIN_DN}"
rootpw ${LDAP_ADMIN_PASSWORD}
directory ${dir}/db
access to attrs=userPassword by self write by anonymous auth by * none
access to * by users read by * none
`,
  );
  const [ldapsPort, ldapPort] = [freePort(), freePort()];
  const ldapsUrl = `ldaps://127.0.0.1:${ldapsPort}`;
  const ldapUrl = `ldap://127.0.0.1:${ldapPort}`;
  const proc: Spawned = spawnCollected("/usr/sbin/slapd", [
    "-d",
    "0",
    "-f",
    `${dir}/slapd.conf`,
    "-h",
    `${ldapsUrl}/ ${ldapUrl}/`,
  ]);
  const env = { LDAPTLS_CACERT: `${dir}/ca.pem` };
  const modify: Slapd["modify"] = async (tool, input, args = []) => {
    const p = new Deno.Command(`/usr/bin/${tool}`, {
      args: ["-x", "-H", ldapsUrl, "-D", LDAP_ADMIN_DN, "-w", LDAP_ADMIN_PASSWORD, ...args],
      env,
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const w = p.stdin.getWriter();
    await w.write(new TextEncoder().encode(input));
    await w.close();
    const o = await p.output();
    if (!o.success) {
      throw new Error(`${tool} failed: ${new TextDecoder().decode(o.stderr)}`);
    }
  };
  // ready when an ldaps bind works
  const deadline = Date.now() + 20_000;
  for (;;) {
    const r = await new Deno.Command("/usr/bin/ldapwhoami", {
      args: ["-x", "-H", ldapsUrl, "-D", LDAP_ADMIN_DN, "-w", LDAP_ADMIN_PASSWORD],
      env,
      stdout: "null",
      stderr: "null",
    }).output();
    if (r.success) break;
    if (Date.now() > deadline) {
      await proc.stop(2000);
      throw new Error(`slapd did not start:\n${proc.output()}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  await modify(
    "ldapadd",
    `dn: ${LDAP_SUFFIX}
objectClass: dcObject
objectClass: organization
o: example
dc: example

dn: ou=services,${LDAP_SUFFIX}
objectClass: organizationalUnit
ou: services

dn: ou=people,${LDAP_SUFFIX}
objectClass: organizationalUnit
ou: people

dn: ou=groups,${LDAP_SUFFIX}
objectClass: organizationalUnit
ou: groups

dn: ${LDAP_SERVICE_DN}
objectClass: organizationalRole
objectClass: simpleSecurityObject
cn: jumphost
userPassword: ${LDAP_SERVICE_PASSWORD}
`,
  );
  return {
    dir,
    caFile: `${dir}/ca.pem`,
    ldapsUrl,
    ldapUrl,
    modify,
    async stop() {
      await proc.stop(5000);
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}

/** LDIF of a posixAccount person with a password and optionally an SSH key. */
export function ldapPerson(uid: string, password: string, sshKey?: string): string {
  return `dn: uid=${uid},ou=people,${LDAP_SUFFIX}
objectClass: inetOrgPerson
objectClass: posixAccount
objectClass: ldapPublicKey
objectClass: jumphostTestLock
uid: ${uid}
cn: ${uid}
sn: ${uid}
mail: ${uid}@example.test
uidNumber: ${10000 + uid.length}
gidNumber: 10000
homeDirectory: /home/${uid}
userPassword: ${password}
${sshKey ? `sshPublicKey: ${sshKey}\n` : ""}`;
}

/** LDIF of a groupOfNames group. */
export function ldapGroup(cn: string, memberUids: string[]): string {
  return `dn: cn=${cn},ou=groups,${LDAP_SUFFIX}
objectClass: groupOfNames
cn: ${cn}
${memberUids.map((u) => `member: uid=${u},ou=people,${LDAP_SUFFIX}`).join("\n")}
`;
}

/** The directory settings for this server, as JUMPHOST_* environment and as the resolved config. */
export function slapdSettings(s: Slapd, extra: Record<string, string> = {}): Record<string, string> {
  return {
    JUMPHOST_LDAP_URL: s.ldapsUrl,
    JUMPHOST_LDAP_CA_FILE: s.caFile,
    JUMPHOST_LDAP_BIND_DN: LDAP_SERVICE_DN,
    JUMPHOST_LDAP_BIND_PASSWORD: LDAP_SERVICE_PASSWORD,
    JUMPHOST_LDAP_USER_BASE: `ou=people,${LDAP_SUFFIX}`,
    JUMPHOST_LDAP_GROUP_BASE: `ou=groups,${LDAP_SUFFIX}`,
    JUMPHOST_LDAP_SSH_KEY_ATTR: "sshPublicKey",
    JUMPHOST_LDAP_DISABLED_FILTER: "(nsAccountLock=TRUE)",
    ...extra,
  };
}

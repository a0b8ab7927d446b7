// Per-cluster PKI generated with the openssl CLI: CA, apiserver serving cert, admin client
// cert (system:masters), service-account signing key pair.
import { writeFileSync } from "node:fs"
import { join } from "node:path"

import { requireTool, run } from "./processes.ts"

export interface Pki {
  readonly caCert: string
  readonly caKey: string
  readonly servingCert: string
  readonly servingKey: string
  readonly adminCert: string
  readonly adminKey: string
  readonly saKey: string
  readonly saPub: string
}

/** First address of the service CIDR: the `kubernetes.default` ClusterIP. */
export const SERVICE_CIDR = "10.96.0.0/16"
const KUBERNETES_SERVICE_IP = "10.96.0.1"

const openssl = (args: ReadonlyArray<string>, cwd: string): Promise<string> =>
  run("openssl", args, { cwd, component: "certificates (openssl)" })

const signed = async (dir: string, name: string, subject: string, extensions: string): Promise<void> => {
  await openssl([
    "req",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-keyout",
    `${name}.key`,
    "-out",
    `${name}.csr`,
    "-subj",
    subject
  ], dir)
  writeFileSync(join(dir, `${name}.ext`), extensions)
  await openssl(
    [
      "x509",
      "-req",
      "-in",
      `${name}.csr`,
      "-CA",
      "ca.crt",
      "-CAkey",
      "ca.key",
      "-CAcreateserial",
      "-days",
      "3650",
      "-out",
      `${name}.crt`,
      "-extfile",
      `${name}.ext`
    ],
    dir
  )
}

export const generatePki = async (dir: string): Promise<Pki> => {
  requireTool(
    "openssl",
    "to generate the test clusters' certificates",
    "install OpenSSL (e.g. apt-get install openssl)"
  )
  await openssl(
    [
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-keyout",
      "ca.key",
      "-out",
      "ca.crt",
      "-days",
      "3650",
      "-subj",
      "/CN=ark-testenv-ca",
      "-addext",
      "basicConstraints=critical,CA:TRUE",
      "-addext",
      "keyUsage=critical,keyCertSign,cRLSign,digitalSignature"
    ],
    dir
  )
  const sans = [
    "IP:127.0.0.1",
    `IP:${KUBERNETES_SERVICE_IP}`,
    "DNS:localhost",
    "DNS:kubernetes",
    "DNS:kubernetes.default",
    "DNS:kubernetes.default.svc",
    "DNS:kubernetes.default.svc.cluster.local"
  ]
  await signed(
    dir,
    "serving",
    "/CN=kube-apiserver",
    `subjectAltName=${
      sans.join(",")
    }\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth,clientAuth\n`
  )
  await signed(
    dir,
    "admin",
    "/O=system:masters/CN=ark-testenv-admin",
    "keyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n"
  )
  await openssl(["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", "sa.key"], dir)
  await openssl(["pkey", "-in", "sa.key", "-pubout", "-out", "sa.pub"], dir)
  const p = (f: string): string => join(dir, f)
  return {
    caCert: p("ca.crt"),
    caKey: p("ca.key"),
    servingCert: p("serving.crt"),
    servingKey: p("serving.key"),
    adminCert: p("admin.crt"),
    adminKey: p("admin.key"),
    saKey: p("sa.key"),
    saPub: p("sa.pub")
  }
}

// One control plane on loopback: etcd, kube-apiserver, kube-controller-manager, kube-scheduler
// and kwok (fake nodes whose kubelet API kwok serves, running `exec` on this machine).
import { mkdirSync, writeFileSync } from "node:fs"
import { join } from "node:path"

import { generatePki, SERVICE_CIDR } from "./certs.ts"
import { fetchUrl, ok200, type Tls } from "./http.ts"
import { freePorts, startDaemon, type StartedProcess, TestenvError, waitHealthy } from "./processes.ts"

export interface ClusterInfo {
  readonly name: string // cluster-N
  readonly kubeconfig: string
  readonly apiserverUrl: string
  readonly etcdUrl: string
}

export const NODE_COUNT = 3

const kubeconfigYaml = (server: string, ca: string, cert: string, key: string): string =>
  `apiVersion: v1
kind: Config
clusters:
- name: ark-testenv
  cluster:
    server: ${server}
    certificate-authority: ${ca}
users:
- name: admin
  user:
    client-certificate: ${cert}
    client-key: ${key}
contexts:
- name: ark-testenv
  context:
    cluster: ark-testenv
    user: admin
current-context: ark-testenv
`

// ClusterExec without selector: `kubectl exec` into any pod runs the command locally, in workDir.
const kwokConfigYaml = (workDir: string): string =>
  `apiVersion: config.kwok.x-k8s.io/v1alpha1
kind: KwokConfiguration
options:
  enableDebuggingHandlers: true
---
apiVersion: kwok.x-k8s.io/v1alpha1
kind: ClusterExec
metadata:
  name: run-locally
spec:
  execs:
  - local:
      workDir: ${workDir}
`

const fakeNode = (name: string): object => ({
  apiVersion: "v1",
  kind: "Node",
  metadata: {
    name,
    annotations: { "kwok.x-k8s.io/node": "fake", "node.alpha.kubernetes.io/ttl": "0" },
    labels: { type: "kwok", "kubernetes.io/hostname": name, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64" }
  },
  status: {
    capacity: { cpu: "1000", memory: "4Ti", pods: "2000" },
    allocatable: { cpu: "1000", memory: "4Ti", pods: "2000" }
  }
})

/** Starts cluster `index` (1-based); `onStart` records each pid as soon as it exists. */
export const startCluster = async (
  root: string,
  index: number,
  binDir: string,
  onStart: (p: StartedProcess) => void
): Promise<ClusterInfo> => {
  const name = `cluster-${index}`
  const dir = join(root, name)
  const logs = join(root, "logs")
  const pkiDir = join(dir, "pki")
  mkdirSync(pkiDir, { recursive: true })
  mkdirSync(logs, { recursive: true })
  const pki = await generatePki(pkiDir)
  const [etcdPort, peerPort, apiPort, kcmPort, schedPort, kwokPort] = (await freePorts(6)) as [
    number,
    number,
    number,
    number,
    number,
    number
  ]
  const bin = (b: string): string => join(binDir, b)
  const start = (component: string, args: ReadonlyArray<string>): { name: string; pid: number } => {
    const logName = `${name}-${component}`
    const pid = startDaemon(logName, bin(component), args, logs)
    onStart({ name: logName, pid })
    return { name: logName, pid }
  }
  const healthy = (p: { name: string; pid: number }, check: () => Promise<boolean>, timeoutMs?: number) =>
    waitHealthy(p.name, p.pid, logs, check, timeoutMs)

  const etcdUrl = `http://127.0.0.1:${etcdPort}`
  const etcd = start("etcd", [
    "--name=default",
    `--data-dir=${join(dir, "etcd-data")}`,
    `--listen-client-urls=${etcdUrl}`,
    `--advertise-client-urls=${etcdUrl}`,
    `--listen-peer-urls=http://127.0.0.1:${peerPort}`,
    `--initial-advertise-peer-urls=http://127.0.0.1:${peerPort}`,
    `--initial-cluster=default=http://127.0.0.1:${peerPort}`,
    "--unsafe-no-fsync", // test data; much faster on slow disks
    // The scale benchmark holds three namespaces of 300k objects at once: ~1.5 GB before the API
    // server's compaction, near the 2 GiB default that makes etcd refuse every write.
    "--quota-backend-bytes=8589934592"
  ])
  await healthy(etcd, async () => (await fetchUrl(`${etcdUrl}/health`)).body.includes("\"true\""))

  const apiserverUrl = `https://127.0.0.1:${apiPort}`
  const admin: Tls = { ca: pki.caCert, cert: pki.adminCert, key: pki.adminKey }
  const apiserver = start("kube-apiserver", [
    `--etcd-servers=${etcdUrl}`,
    "--bind-address=127.0.0.1",
    "--advertise-address=127.0.0.1",
    `--secure-port=${apiPort}`,
    `--cert-dir=${pkiDir}`,
    `--tls-cert-file=${pki.servingCert}`,
    `--tls-private-key-file=${pki.servingKey}`,
    `--client-ca-file=${pki.caCert}`,
    "--authorization-mode=Node,RBAC",
    `--service-cluster-ip-range=${SERVICE_CIDR}`,
    "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
    `--service-account-key-file=${pki.saPub}`,
    `--service-account-signing-key-file=${pki.saKey}`,
    // kwok serves the kubelet API with the serving cert; the apiserver reaches it as a kubelet.
    `--kubelet-client-certificate=${pki.adminCert}`,
    `--kubelet-client-key=${pki.adminKey}`,
    "--kubelet-preferred-address-types=InternalIP",
    // Endpoints may not be loopback, so the `kubernetes` Service gets no endpoints reconciler.
    "--endpoint-reconciler-type=none",
    // Reads and watches go to etcd, so `etcdctl compact` deterministically yields 410 Gone
    // (the watch cache would otherwise serve old revisions from memory).
    "--watch-cache=false",
    "--allow-privileged=true",
    "--profiling=false"
  ])
  await healthy(apiserver, () => ok200(`${apiserverUrl}/readyz`, admin), 90_000)

  const kubeconfig = join(dir, "kubeconfig")
  writeFileSync(kubeconfig, kubeconfigYaml(apiserverUrl, pki.caCert, pki.adminCert, pki.adminKey))
  const kcfg = [
    `--kubeconfig=${kubeconfig}`,
    `--authentication-kubeconfig=${kubeconfig}`,
    `--authorization-kubeconfig=${kubeconfig}`
  ]

  const kcm = start("kube-controller-manager", [
    ...kcfg,
    "--bind-address=127.0.0.1",
    `--secure-port=${kcmPort}`,
    `--cert-dir=${join(dir, "kcm-certs")}`,
    "--controllers=*",
    "--use-service-account-credentials",
    `--service-account-private-key-file=${pki.saKey}`,
    `--root-ca-file=${pki.caCert}`,
    `--cluster-signing-cert-file=${pki.caCert}`,
    `--cluster-signing-key-file=${pki.caKey}`,
    `--service-cluster-ip-range=${SERVICE_CIDR}`,
    // A fake node taken for NotReady loses its pods' Ready condition for good (kwok re-initialises
    // the node, not the pods). kwok renews node leases (below); these leave room for a renewal that
    // comes late on a loaded 2-core machine.
    "--node-monitor-grace-period=5m",
    "--node-startup-grace-period=5m",
    "--leader-elect=false",
    "--profiling=false"
  ])
  const scheduler = start("kube-scheduler", [
    ...kcfg,
    "--bind-address=127.0.0.1",
    `--secure-port=${schedPort}`,
    `--cert-dir=${join(dir, "scheduler-certs")}`,
    "--leader-elect=false",
    "--profiling=false"
  ])
  const kwokConfig = join(dir, "kwok.yaml")
  const execDir = join(dir, "exec")
  mkdirSync(execDir, { recursive: true })
  writeFileSync(kwokConfig, kwokConfigYaml(execDir))
  const kwok = start("kwok", [
    `--kubeconfig=${kubeconfig}`,
    `--config=${kwokConfig}`,
    "--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake",
    // Without leases kwok reports a node's status only every 10 min, so the node controller takes
    // the nodes for gone after its grace period (NodeNotReady events, then pods not Ready).
    "--node-lease-duration-seconds=40",
    "--node-ip=127.0.0.1",
    `--node-port=${kwokPort}`,
    `--server-address=127.0.0.1:${kwokPort}`,
    `--tls-cert-file=${pki.servingCert}`,
    `--tls-private-key-file=${pki.servingKey}`,
    "--cidr=10.244.0.1/16"
  ])

  const api = (path: string, method?: string, body?: object) =>
    fetchUrl(`${apiserverUrl}${path}`, {
      tls: admin,
      ...(method ? { method } : {}),
      ...(body ? { body: JSON.stringify(body) } : {})
    })
  for (let i = 1; i <= NODE_COUNT; i++) {
    const r = await api("/api/v1/nodes", "POST", fakeNode(`kwok-node-${i}`))
    if (r.status !== 201) {
      throw new TestenvError(`${name}: creating node kwok-node-${i} failed (${r.status}): ${r.body}`)
    }
  }

  await Promise.all([
    healthy(kcm, () => ok200(`https://127.0.0.1:${kcmPort}/healthz`)),
    healthy(scheduler, () => ok200(`https://127.0.0.1:${schedPort}/healthz`)),
    healthy(kwok, () => ok200(`https://127.0.0.1:${kwokPort}/healthz`))
  ])
  // Ready when kwok reports the nodes Ready and kcm has created the default ServiceAccount.
  await healthy(kwok, async () => {
    const nodes = JSON.parse((await api("/api/v1/nodes")).body) as {
      items?: Array<{ status?: { conditions?: Array<{ type: string; status: string }> } }>
    }
    const ready = (nodes.items ?? []).filter((n) =>
      (n.status?.conditions ?? []).some((c) => c.type === "Ready" && c.status === "True")
    )
    return ready.length === NODE_COUNT
  })
  await healthy(kcm, async () => (await api("/api/v1/namespaces/default/serviceaccounts/default")).status === 200)
  return { name, kubeconfig, apiserverUrl, etcdUrl }
}

// The AWS SDK's EC2 client behind the Ec2Api port. Ebs.ts imports this module only when an EBS
// store is opened: the SDK is large, and most processes never need it.
import type { EC2ClientConfig } from "@aws-sdk/client-ec2"
import {
  CreateSnapshotCommand,
  CreateVolumeCommand,
  DeleteSnapshotCommand,
  DescribeSnapshotsCommand,
  DescribeVolumesCommand,
  EC2Client,
  VolumeType
} from "@aws-sdk/client-ec2"

import type { Ec2Api } from "./Ebs.ts"

const volumeTypes: ReadonlySet<string> = new Set<string>(Object.values(VolumeType))

export const openEc2 = (config: EC2ClientConfig): { readonly api: Ec2Api; readonly destroy: () => void } => {
  const client = new EC2Client(config)
  return {
    api: {
      describeVolumes: (input, signal) => client.send(new DescribeVolumesCommand(input), { abortSignal: signal }),
      describeSnapshots: (input, signal) => client.send(new DescribeSnapshotsCommand(input), { abortSignal: signal }),
      createSnapshot: (input, signal) => client.send(new CreateSnapshotCommand(input), { abortSignal: signal }),
      deleteSnapshot: (input, signal) => client.send(new DeleteSnapshotCommand(input), { abortSignal: signal }),
      createVolume: (input, signal) => client.send(new CreateVolumeCommand(input), { abortSignal: signal }),
      volumeTypes
    },
    destroy: () => client.destroy()
  }
}

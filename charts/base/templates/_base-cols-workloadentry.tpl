{{> base-col-age}}
- name: Address
  type: string
  jsonPath: .spec.address
  description: Address of the workload.

- name: Mode
  type: string
  jsonPath: .spec.mtls.mode
  description: Mutual TLS mode of the selected workloads.
{{> base-col-age}}

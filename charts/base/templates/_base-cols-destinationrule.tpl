- name: Host
  type: string
  jsonPath: .spec.host
  description: The service the rule is for.
{{> base-col-age}}

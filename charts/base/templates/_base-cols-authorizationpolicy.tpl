- name: Action
  type: string
  jsonPath: .spec.action
  description: ALLOW, DENY, AUDIT or CUSTOM.
{{> base-col-age}}

- name: Gateways
  type: string
  jsonPath: .spec.gateways
  description: Gateways that apply the routes.
- name: Hosts
  type: string
  jsonPath: .spec.hosts
  description: Destination hosts the routes are for.
{{> base-col-age}}

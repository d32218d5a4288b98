app: {{app}}
chart: istio
heritage: Tiller
{{#if istio}}
istio: {{istio}}
{{/if}}
{{#if package}}
package: {{package}}
{{/if}}
release: istio

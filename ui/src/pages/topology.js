// The whole service graph, coloured by health (open incidents and recent anomalies).
import { panel, empty, failure, h } from '../dom.js';
import { api, list } from '../api.js';
import { fetchTopology, normaliseGraph, graphSvg } from '../graph.js';
import { incident, isOpen } from '../model.js';

export async function topologyPage() {
  const [topo, inc, anom] = await Promise.all([fetchTopology(), api('/api/v1/incidents?limit=1000'), api('/api/v1/anomalies?limit=1000')]);
  if (!topo.ok) return panel('Topology', topo.status === 404 ? empty('No topology on this server.', 'Set `topology_file` in the configuration to a YAML file of services and their `dependsOn`; edges from traces are added when tracing is ingested.') : failure(topo));
  const g = normaliseGraph(topo.data);
  if (!g.nodes.length) return panel('Topology', empty('The topology is empty.', 'List services and their dependencies in `topology_file`.'));
  // The server's health (from traces and anomalies) wins; otherwise anomalies and open incidents colour.
  const health = new Map();
  for (const a of list(anom)) if (a.service) health.set(a.service, 'warn');
  for (const i of list(inc, 'incidents').map(incident).filter(Boolean).filter(isOpen)) for (const s of i.services) health.set(s, 'bad');
  return panel(`Topology (${g.nodes.length} services, ${g.edges.length} dependencies)`,
    h('p', { class: 'legend' }, h('span', { class: 'dot bad' }), ' failing or open incident ', h('span', { class: 'dot warn' }), ' degraded or anomalous ', h('span', { class: 'dot ok' }), ' quiet'),
    graphSvg(g, { health }));
}

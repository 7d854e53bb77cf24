/**
 * Local clusters: host nodes forked as JVMs on 127.0.0.1 (or another address of this machine), for operators' local
 * runs, tests and benchmarks; and network namespaces joined by veth pairs, to cut a node off from the others for real.
 */
package dev.ferry.host.local;

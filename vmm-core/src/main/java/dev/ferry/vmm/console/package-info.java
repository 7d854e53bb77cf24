/** The guest console as the host sees it: bytes assembled into lines, with listeners. */
package dev.ferry.vmm.console;

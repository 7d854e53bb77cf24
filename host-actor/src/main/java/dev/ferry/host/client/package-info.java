/** A client node that finds host agents through the Receptionist and asks them in protobuf. */
package dev.ferry.host.client;

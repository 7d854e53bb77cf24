/**
 * Protocol helpers over the generated messages ({@code dev.ferry.protocol.v1}): the version this build speaks
 * and the check of a stream's first message. Contracts only: no conversion to domain records here.
 */
package dev.ferry.protocol;

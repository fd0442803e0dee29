/**
 * Implementation of the Drover SDK. <b>Not API</b>: anything here may change without notice;
 * use the types in {@code dev.drover.sdk} only.
 */
package dev.drover.sdk.internal;

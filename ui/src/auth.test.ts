import { describe, expect, it } from "vitest";
import { allows, meToAuth, mustSignIn } from "./auth";

describe("allows", () => {
  it("offers everything in open mode (no sign-in on the server)", () => {
    const open = meToAuth(404);
    expect(allows(open, "editor")).toBe(true);
    expect(allows(open, "admin")).toBe(true);
  });
  it("offers nothing that changes anything before /auth/me answers, or to nobody", () => {
    expect(allows({ state: "loading" }, "editor")).toBe(false);
    expect(allows(meToAuth(401), "viewer")).toBe(false);
  });
  it("follows the role: editor and ingest are siblings under admin", () => {
    const as = (role: "viewer" | "editor" | "ingest" | "admin") => meToAuth(200, { name: "x", role, via: "session" });
    expect(allows(as("viewer"), "editor")).toBe(false);
    expect(allows(as("editor"), "editor")).toBe(true);
    expect(allows(as("editor"), "admin")).toBe(false);
    expect(allows(as("ingest"), "editor")).toBe(false);
    expect(allows(as("admin"), "editor")).toBe(true);
  });
  it("reads an anonymous principal as signed out, keeping its role", () => {
    const a = meToAuth(200, { name: "", role: "viewer", via: "anonymous" });
    expect(a.state).toBe("signedOut");
    expect(allows(a, "viewer")).toBe(true);
    expect(allows(a, "editor")).toBe(false);
  });
});

describe("mustSignIn", () => {
  it("asks to sign in only when requests without credentials have no role", () => {
    expect(mustSignIn(meToAuth(404))).toBe(false);
    expect(mustSignIn(meToAuth(401))).toBe(true);
    expect(mustSignIn(meToAuth(200, { name: "", role: "", via: "anonymous" } as never))).toBe(true);
    expect(mustSignIn(meToAuth(200, { name: "", role: "viewer", via: "anonymous" }))).toBe(false);
    expect(mustSignIn(meToAuth(200, { name: "eda", role: "editor", via: "session" }))).toBe(false);
  });
});

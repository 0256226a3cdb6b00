// Changing one's own password from 我的设备: a mismatch is caught in the form, a wrong current
// password is refused by the relay, and after the change only the new password signs in and
// the other device is signed out.

import assert from "node:assert/strict";

export default [
  {
    name: "change one's password: form checks, refusal, then the other device is signed out",
    timeout: 120_000,
    fn: async t => {
      const server = await t.startServer();
      await server.addUser("emma", "emma-password", "Emma 陈", "employee");
      const other = await server.login("emma", "emma-password");
      const page = await t.newPage();
      await t.login(page, "emma", "emma-password");
      await page.getByTestId("open-devices").click();
      const form = page.getByTestId("password-form");
      await form.waitFor();

      const fill = async (current, next, repeat) => {
        await page.getByTestId("password-current").fill(current);
        await page.getByTestId("password-new").fill(next);
        await page.getByTestId("password-repeat").fill(repeat);
        await page.getByTestId("password-save").click();
      };
      await fill("emma-password", "新密码-2026-12", "新密码-2026-13");
      await form.locator('[role="alert"]', { hasText: "不一致" }).waitFor();
      await fill("wrong-password", "新密码-2026-12", "新密码-2026-12");
      await form.locator('[role="alert"]', { hasText: "当前密码不正确" }).waitFor({ timeout: 10_000 });
      await fill("emma-password", "新密码-2026-12", "新密码-2026-12");
      await page.getByTestId("password-changed").waitFor({ timeout: 15_000 });

      await assert.rejects(server.api("GET", "/api/me", { token: other.token }), /401/, "the other device is signed out");
      await assert.rejects(server.login("emma", "emma-password"), /401/, "the old password no longer works");
      await server.login("emma", "新密码-2026-12");
    },
  },
];

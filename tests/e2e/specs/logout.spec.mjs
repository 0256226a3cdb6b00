// Logging out ends everything the session started: the loops and timers that send queued
// requests, refresh lists and ask the relay (every 3 s to every 2 min) find the session's state
// gone and stop, instead of failing on it. (They did fail: after logging out, the surveys'
// sender panicked on its disposed queue every 3 s.) Then the next person logs in on the same
// page and the app works.

import assert from "node:assert/strict";
import { connState } from "../lib/wait.mjs";

export default [
  {
    name: "after logging out nothing the session started fails, and the next person logs in on the same page",
    timeout: 120_000,
    fn: async t => {
      const server = await t.startServer();
      await server.addUser("alice", "alice-password", "Alice 王", "super_admin");
      await server.addUser("bob", "bob-password-1", "Bob 李", "employee");
      const a = await t.newPage();
      const panics = [];
      a.on("console", m => {
        if (m.type() === "error" && m.text().includes("panicked")) panics.push(m.text().slice(0, 400));
      });
      await t.login(a, "alice", "alice-password");
      await connState(a, "online");
      // Open the pages whose state outlives them (library, helpdesk, feedback).
      for (const id of ["open-library", "open-helpdesk", "open-feedback"]) await a.getByTestId(id).click();
      await a.getByTestId("logout").click();
      await a.getByTestId("login-username").waitFor();
      // Long enough for the 3 s and 30 s loops to run again.
      await a.waitForTimeout(35_000);
      assert.deepEqual(panics, [], "nothing panicked after logging out");
      await t.login(a, "bob", "bob-password-1");
      await connState(a, "online");
      await a.getByTestId("open-library").click();
      await a.getByTestId("lib-empty").waitFor();
      assert.deepEqual(panics, []);
    },
  },
];

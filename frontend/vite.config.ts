/// <reference types="vitest/config" />
// Vite builds the dashboard into dist/ for Django to serve at "/"; in development
// the dev server forwards API, websocket and admin traffic to the Django server.
import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

const backend = "http://127.0.0.1:8080";

export default defineConfig({
  plugins: [react()],
  base: "/",
  build: { outDir: "dist", emptyOutDir: true },
  server: {
    proxy: {
      "/api": backend,
      "/ws": { target: backend, ws: true },
      "/admin": backend,
      "/static": backend,
    },
  },
  test: {
    environment: "jsdom",
    setupFiles: ["./src/test-setup.ts"],
    css: false,
  },
});

// Starts GOV.UK Frontend's components (error summary focus, buttons, navigation toggle).
import { initAll } from "/assets/govuk/govuk-frontend.min.js";

initAll();

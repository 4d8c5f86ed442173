-- One database per service (each service owns its data).
CREATE DATABASE members OWNER jiceng;
CREATE DATABASE stars OWNER jiceng;

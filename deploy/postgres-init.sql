-- One database per service (each service owns its data).
CREATE DATABASE members OWNER jiceng;
CREATE DATABASE stars OWNER jiceng;
CREATE DATABASE affairs OWNER jiceng;
CREATE DATABASE tickets OWNER jiceng;
CREATE DATABASE talent OWNER jiceng;
CREATE DATABASE gateway OWNER jiceng;
CREATE DATABASE notify OWNER jiceng;
